"""Score the shipped models on PublicTest: each test-time augmentation, bfloat16, the ensemble.

For every model of :data:`skfer.pretrained.MODELS` and for their soft-voting
ensemble (``load_pretrained("ensemble")``), the PublicTest accuracy with
``tta`` None, ``"flip"`` and ``"ten_crop"`` (FERClassifier's own test-time
augmentation), all in float32 (``load_pretrained`` predicts in bfloat16 on
CPUs that compute it natively); for the default model also
``predict_dtype="bfloat16"``, counting the predictions that change. PublicTest chose the models, so these
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
import shlex
import sys
import time
from pathlib import Path

import numpy as np

from skfer import load_fer2013
from skfer._evaluation import _classifiers, accuracy_by_tta
from skfer._hardware import machine
from skfer.pretrained import DEFAULT_MODEL, MODELS, load_pretrained

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "fer2013"
TTA = (None, "flip", "ten_crop")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.environ.get("SKFER_DATA") or DEFAULT_DATA)
    parser.add_argument("--output", type=Path, default=RESULTS / "tta_pretrained.json")
    args = parser.parse_args(argv)
    val = load_fer2013(args.data, usage="PublicTest")
    start = time.perf_counter()
    accuracy = {}
    for name in [*MODELS, "ensemble"]:
        model = load_pretrained(name)
        for classifier in _classifiers(model):  # the exact figures, on any CPU
            classifier.set_params(predict_dtype="float32")
        accuracy[name] = accuracy_by_tta(model, val.data, val.target, TTA)
        print(name, {k: round(v, 4) for k, v in accuracy[name].items()})
    model = load_pretrained(DEFAULT_MODEL).set_params(ferclassifier__predict_dtype="float32")
    plain = model.predict(val.data)
    model[-1].set_params(predict_dtype="bfloat16")
    bf16 = model.predict(val.data)
    result = {
        "split": "PublicTest (validation)",
        "n": len(val.target),
        "accuracy_by_model_and_tta": accuracy,
        "accuracy_by_model_and_tta_dtype": "float32",
        "default_model": DEFAULT_MODEL,
        "predict_dtype": {
            "float32": float(np.mean(plain == val.target)),
            "bfloat16": float(np.mean(bf16 == val.target)),
            "predictions_changed_by_bfloat16": int((plain != bf16).sum()),
        },
        "seconds": round(time.perf_counter() - start, 1),
        "machine": machine(),
        "command": shlex.join(["python", *sys.argv]),
    }
    args.output.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
