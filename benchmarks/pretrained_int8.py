"""Write the int8 engines shipped beside the pretrained weights, and measure what they cost in accuracy.

For every model of :data:`skfer.pretrained.MODELS` this converts the shipped
network with :class:`skfer.inference._engine.Int8Engine` (the engine
``FERClassifier(predict_dtype="int8")`` makes at the end of a fit),
calibrated on 512 FER2013 Training faces spread over the split, records
the SHA-256 of the weights file it was made from in the file's metadata
(``load_pretrained`` checks it), and writes
``skfer/pretrained/<model>.int8.onnx``. Then it scores PublicTest
(validation) through ``load_pretrained(name, predict_dtype=...)`` in
float32 (Keras) and int8, each with the model's own ``tta`` and with
flips, and the agreement of the two on each face.

Results: ``benchmarks/results/pretrained_int8.json`` and ``.md``, with the
CPU model and flags.

Examples
--------
::

    python benchmarks/pretrained_int8.py
    python benchmarks/pretrained_int8.py --check   # score the shipped files, write none
"""

import argparse
import datetime
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from skfer.datasets import load_fer2013  # noqa: E402
from skfer.experiments import fer2013_calibration_faces, machine, versions  # noqa: E402
from skfer.pretrained import MODELS, load_pretrained  # noqa: E402
from skfer.pretrained._cards import read_card  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
PRETRAINED = Path(__file__).resolve().parents[1] / "skfer" / "pretrained"
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "fer2013"


def write_engine(card, calibration):
    """Convert the model of ``card`` from its shipped weights, calibrate it, and write its int8 file beside them."""
    from skfer.inference._engine import Int8Engine
    from skfer.pretrained._cards import WEIGHTS_SHA256, engine_file, weights_sha256
    from skfer.pretrained._load import pipeline_from_card

    pipeline = pipeline_from_card(card, predict_dtype="float32")
    faces = pipeline[:-1].transform(calibration)
    engine = Int8Engine.from_classifier(pipeline[-1], faces, {WEIGHTS_SHA256: weights_sha256(card)})
    path = PRETRAINED / engine_file(card)
    path.write_bytes(engine.onnx_bytes)
    return path


def score(name, faces, labels):
    """PublicTest accuracy of model ``name`` in float32 and int8, with its own tta and with flips."""
    row = {}
    for tta in ("own", "flip"):
        predictions = {}
        for dtype in ("float32", "int8"):
            model = load_pretrained(name, predict_dtype=dtype)
            if tta == "flip":
                model.set_params(ferclassifier__tta="flip")
            predictions[dtype] = model.predict(faces)
            row[f"{dtype}_{tta}"] = float(np.mean(predictions[dtype] == labels))
        row[f"agreement_{tta}"] = float(np.mean(predictions["float32"] == predictions["int8"]))
        row[f"int8_minus_float32_{tta}_points"] = round(100 * (row[f"int8_{tta}"] - row[f"float32_{tta}"]), 2)
    return row


def _markdown(results):
    lines = [
        "# Shipped int8 engines: PublicTest (validation) accuracy against float32",
        "",
        f"Command: `{results['command']}`, {results['date']}.",
        f"CPU: {results['machine']['cpu']}; flags: {', '.join(results['machine']['cpu_flags'])}.",
        "",
        "| model | tta | float32 | int8 | int8 - float32 (points) | same prediction |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in results["models"].items():
        for tta in ("own", "flip"):
            lines.append(
                f"| {name} | {tta} | {100 * row[f'float32_{tta}']:.2f}% | {100 * row[f'int8_{tta}']:.2f}% "
                f"| {row[f'int8_minus_float32_{tta}_points']:+.2f} | {100 * row[f'agreement_{tta}']:.1f}% |"
            )
    lines += ["", "`own` is the model's own `tta` (none for every shipped model); `flip` adds mirror images."]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("SKFER_DATA", DEFAULT_DATA))
    parser.add_argument("--check", action="store_true", help="score the shipped files; write none")
    parser.add_argument("--output", type=Path, default=RESULTS / "pretrained_int8.json")
    args = parser.parse_args(argv)
    if not args.check:
        calibration = fer2013_calibration_faces(args.data)
        for name in MODELS:
            print("wrote", write_engine(read_card(name), calibration), flush=True)
    test = load_fer2013(args.data, usage="PublicTest")
    results = {
        "command": "python benchmarks/pretrained_int8.py" + (" --check" if args.check else ""),
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "versions": versions("tensorflow", extra=("onnxruntime", "onnx", "tf2onnx")),
        "split": "PublicTest",
        "n_faces": int(len(test.target)),
        "models": {},
    }
    for name in MODELS:
        results["models"][name] = score(name, test.data, np.asarray(test.target))
        print(name, results["models"][name], flush=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    args.output.with_suffix(".md").write_text(_markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
