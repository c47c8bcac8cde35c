"""Score the pretrained model's prediction variants on PublicTest: test-time augmentation and bfloat16.

Each variant averages the predicted probabilities of several views of every
face: the face itself, its mirror image, and copies shifted by ``--pixels``
in each of the four directions (edges repeated), as the published
single-model FER2013 recipes do with flips and crops. The faces alone are
also scored with ``predict_dtype="bfloat16"``, counting the predictions that
change. PublicTest is the split that chose the pretrained model, so these
are validation accuracies.

Results go to ``benchmarks/results/tta_pretrained.json``.

Example
-------
::

    python benchmarks/tta_fer2013.py
"""

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from sklearn.metrics import accuracy_score  # noqa: E402

from skfer import EMOTIONS, load_fer2013, load_pretrained  # noqa: E402
from skfer._constants import IMAGE_SIZE  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "fer2013"


def shifted(faces, dy, dx):
    """Faces (n, 48, 48) moved by (dy, dx) pixels, the edge rows and columns repeated."""
    pad = max(abs(dy), abs(dx))
    padded = np.pad(faces, ((0, 0), (pad, pad), (pad, pad)), mode="edge")
    top, left = pad - dy, pad - dx
    return padded[:, top : top + IMAGE_SIZE, left : left + IMAGE_SIZE]


def views(faces, pixels):
    """Named views of (n, 48, 48) faces: identity, mirror, and the four shifts of each."""
    mirror = faces[:, :, ::-1]
    moves = [(pixels, 0), (-pixels, 0), (0, pixels), (0, -pixels)]
    return {
        "identity": faces,
        "mirror": mirror,
        **{f"shift{dy:+d},{dx:+d}": shifted(faces, dy, dx) for dy, dx in moves},
        **{f"mirror_shift{dy:+d},{dx:+d}": shifted(mirror, dy, dx) for dy, dx in moves},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.environ.get("SKFER_DATA") or DEFAULT_DATA)
    parser.add_argument("--pixels", type=int, default=2, help="shift of the shifted views")
    parser.add_argument("--output", type=Path, default=RESULTS / "tta_pretrained.json")
    args = parser.parse_args()

    model = load_pretrained()
    val = load_fer2013(args.data, usage="PublicTest")
    faces = model[:-1].transform(val.data).reshape(-1, IMAGE_SIZE, IMAGE_SIZE)
    y = np.asarray(EMOTIONS)[val.target]
    start = time.perf_counter()
    proba = {name: model[-1].predict_proba(v.reshape(len(v), -1)) for name, v in views(faces, args.pixels).items()}
    shifts = [name for name in proba if name.startswith("shift")]
    variants = {
        "none": ["identity"],
        "flip": ["identity", "mirror"],
        "shifts": ["identity", *shifts],
        "flip_and_shifts": list(proba),
    }
    scores = {}
    for variant, names in variants.items():
        mean = np.mean([proba[name] for name in names], axis=0)
        scores[variant] = {"views": len(names), "accuracy": accuracy_score(y, model.classes_[mean.argmax(axis=1)])}
    plain = model.classes_[proba["identity"].argmax(axis=1)]
    model[-1].set_params(predict_dtype="bfloat16")
    bf16 = model.predict(val.data)
    dtypes = {
        "float32": accuracy_score(y, plain),
        "bfloat16": accuracy_score(y, bf16),
        "predictions_changed_by_bfloat16": int((plain != bf16).sum()),
    }
    result = {
        "model": "skfer.load_pretrained()",
        "split": "PublicTest (validation)",
        "n": len(y),
        "shift_pixels": args.pixels,
        "variants": scores,
        "predict_dtype": dtypes,
        "seconds": time.perf_counter() - start,
        "command": f"python benchmarks/tta_fer2013.py --pixels {args.pixels}",
    }
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    for variant, score in scores.items():
        print(f"{variant:16s} {score['views']:2d} views  PublicTest accuracy {score['accuracy']:.4f}")
    print(f"bfloat16 prediction: accuracy {dtypes['bfloat16']:.4f}, "
          f"{dtypes['predictions_changed_by_bfloat16']} predictions changed")


if __name__ == "__main__":
    main()
