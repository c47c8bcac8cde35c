"""Score the shipped models on PublicTest: each test-time augmentation, bfloat16, and the ensemble rule.

For every model of :data:`skfer.pretrained.MODELS`, the PublicTest accuracy
with ``tta`` None, ``"flip"`` and ``"ten_crop"`` (FERClassifier's own
test-time augmentation), in float32; the same for the soft vote (the mean
of the probabilities) of every combination of two or more models; for the
default model also ``predict_dtype="bfloat16"``, counting the predictions
that change. PublicTest chose the models, so these are validation
accuracies.

The ensemble rule: an ensemble is shipped only if it beats its best member,
with that member's best ``tta``, by at least :data:`ENSEMBLE_MARGIN`
(accuracy, 1 point). The best combination on PublicTest is put to it, which
favours the ensemble; ``ensemble_rule`` in the results says what it gave.

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
from skfer.pretrained import DEFAULT_MODEL, MODELS, load_pretrained

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "fer2013"
TTA = (None, "flip", "ten_crop")
#: How much more accurate than its best member (with that member's best tta) an ensemble must be.
ENSEMBLE_MARGIN = 0.01


def _key(tta):
    return "none" if tta is None else tta


def _accuracy(proba, y):
    return round(float(np.mean(proba.argmax(axis=1) == y)), 6)


def ensemble_rule(accuracy, combinations):
    """The best combination, its best member with that member's best tta, and whether it earns shipping."""
    names, by_tta = max(combinations.items(), key=lambda item: max(item[1].values()))
    tta = max(by_tta, key=by_tta.get)
    member = max(names, key=lambda name: max(accuracy[name].values()))
    member_tta = max(accuracy[member], key=accuracy[member].get)
    gain = by_tta[tta] - accuracy[member][member_tta]
    return {
        "best_combination": list(names), "its_tta": tta, "its_accuracy": by_tta[tta],
        "best_member": member, "member_tta": member_tta, "member_accuracy": accuracy[member][member_tta],
        "gain_points": round(100 * gain, 2), "margin_points": 100 * ENSEMBLE_MARGIN,
        "ship": bool(gain >= ENSEMBLE_MARGIN),
    }


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
        model = load_pretrained(name, predict_dtype="float32")  # exact on any CPU
        for tta in TTA:
            model[-1].set_params(tta=tta)
            proba[name, _key(tta)] = model.predict_proba(val.data)  # columns: labels 0-6
        accuracy[name] = {_key(tta): _accuracy(proba[name, _key(tta)], y) for tta in TTA}
        print(name, accuracy[name])
    combinations = {
        names: {_key(tta): _accuracy(sum(proba[n, _key(tta)] for n in names), y) for tta in TTA}
        for size in range(2, len(MODELS) + 1)
        for names in itertools.combinations(MODELS, size)
    }
    rule = ensemble_rule(accuracy, combinations)
    print("ensemble rule", rule)
    model = load_pretrained(DEFAULT_MODEL, predict_dtype="float32")
    plain = model.predict(val.data)
    model[-1].set_params(predict_dtype="bfloat16")
    bf16 = model.predict(val.data)
    result = {
        "split": "PublicTest (validation)",
        "n": len(val.target),
        "accuracy_by_model_and_tta": accuracy,
        "accuracy_by_model_and_tta_dtype": "float32",
        "accuracy_of_every_combination_of_models": {"+".join(k): v for k, v in combinations.items()},
        "ensemble_rule": rule,
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
