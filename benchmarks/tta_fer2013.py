"""Score the shipped models on PublicTest: each test-time augmentation, bfloat16, the ensemble.

For every model of :data:`skfer.pretrained.MODELS` and for the shipped
soft-voting ensemble (``load_pretrained("ensemble")``, the models of
:data:`skfer.pretrained.ENSEMBLE`), the PublicTest accuracy with ``tta``
None, ``"flip"`` and ``"ten_crop"`` (FERClassifier's own test-time
augmentation), all in float32 (``load_pretrained`` predicts in bfloat16 on
CPUs that compute it natively); the same for the average of every other
combination of two or more models, which is how ``ENSEMBLE`` was chosen;
for the default model also ``predict_dtype="bfloat16"``, counting the
predictions that change. PublicTest chose the models and the ensemble's
members, so these are validation accuracies.

Results go to ``benchmarks/results/tta_pretrained.json``.

Example
-------
::

    python benchmarks/tta_fer2013.py
"""

import argparse
import itertools
import json
import os
import shlex
import sys
import time
from pathlib import Path

import numpy as np

from skfer import load_fer2013
from skfer.experiments import machine
from skfer.pretrained import DEFAULT_MODEL, ENSEMBLE, ENSEMBLE_TTA, MODELS, load_pretrained

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "fer2013"
TTA = (None, "flip", "ten_crop")


def _key(tta):
    return "none" if tta is None else tta


def _accuracy(proba, y):
    return round(float(np.mean(proba.argmax(axis=1) == y)), 6)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.environ.get("SKFER_DATA") or DEFAULT_DATA)
    parser.add_argument("--output", type=Path, default=RESULTS / "tta_pretrained.json")
    args = parser.parse_args(argv)
    val = load_fer2013(args.data, usage="PublicTest")
    start = time.perf_counter()
    accuracy, proba = {}, {}
    y = np.asarray(val.target)
    for name in MODELS:
        model = load_pretrained(name).set_params(ferclassifier__predict_dtype="float32")  # exact on any CPU
        for tta in TTA:
            model[-1].set_params(tta=tta)
            proba[name, _key(tta)] = model.predict_proba(val.data)  # columns: labels 0-6
        accuracy[name] = {_key(tta): _accuracy(proba[name, _key(tta)], y) for tta in TTA}
        print(name, accuracy[name])
    # load_pretrained("ensemble") soft-votes: the mean of its members' probabilities (tested).
    accuracy["ensemble"] = {_key(tta): _accuracy(sum(proba[n, _key(tta)] for n in ENSEMBLE), y) for tta in TTA}
    print("ensemble", accuracy["ensemble"])
    combinations = {
        "+".join(names): {_key(tta): _accuracy(sum(proba[n, _key(tta)] for n in names), y) for tta in TTA}
        for size in range(2, len(MODELS) + 1)
        for names in itertools.combinations(MODELS, size)
    }
    model = load_pretrained(DEFAULT_MODEL).set_params(ferclassifier__predict_dtype="float32")
    plain = model.predict(val.data)
    model[-1].set_params(predict_dtype="bfloat16")
    bf16 = model.predict(val.data)
    result = {
        "split": "PublicTest (validation)",
        "n": len(val.target),
        "accuracy_by_model_and_tta": accuracy,
        "accuracy_by_model_and_tta_dtype": "float32",
        "ensemble_members": list(ENSEMBLE),
        "ensemble_tta": ENSEMBLE_TTA,
        "accuracy_of_every_combination_of_models": combinations,
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
