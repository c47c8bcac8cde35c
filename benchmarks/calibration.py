"""Recalibrating the shipped model: scikit-learn's sigmoid, isotonic and temperature scaling on half of PublicTest.

PublicTest (the validation split) is cut in two halves, stratified by
emotion with a fixed seed. The default model (``load_pretrained()``, as it
predicts by default: the 8-bit engine) is frozen and recalibrated on the
first half with :class:`sklearn.calibration.CalibratedClassifierCV`:

* ``sigmoid``: Platt scaling of each class's probability (one against the
  rest), then the rows renormalised;
* ``isotonic``: the same with a monotone step function per class;
* ``temperature``: the logits (log-probabilities) divided by one fitted
  temperature, then the softmax (scikit-learn 1.8 and later; recorded as
  unavailable otherwise).

Each, and the model as shipped (``none``), is scored on the second half:
accuracy, mean confidence (largest probability), expected calibration error
(:func:`skfer.reporting.expected_calibration_error`, 15 bins) and log loss.
Results: ``benchmarks/results/calibration.json`` and ``calibration.md``.

Examples
--------
::

    python benchmarks/calibration.py
    python benchmarks/calibration.py --quick
"""

import argparse
import datetime
import json
import os
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import sklearn
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import train_test_split

from skfer import load_fer2013, load_pretrained
from skfer.experiments import machine, versions
from skfer.pretrained import DEFAULT_MODEL

sys.path.insert(0, str(Path(__file__).resolve().parent))
from robustness import score

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "fer2013"
RESULTS = ROOT / "benchmarks" / "results"
METHODS = ("sigmoid", "isotonic", "temperature")
#: The first scikit-learn release with CalibratedClassifierCV(method="temperature").
TEMPERATURE_SINCE = (1, 8)


def _sklearn_release():
    return tuple(int(part) for part in sklearn.__version__.split(".")[:2])


def recalibrate(model, X, y, method):
    """``CalibratedClassifierCV(FrozenEstimator(model), method=method)`` fitted on ``X``, ``y``.

    None where the installed scikit-learn lacks ``method``.
    """
    if method == "temperature" and _sklearn_release() < TEMPERATURE_SINCE:
        return None
    return CalibratedClassifierCV(FrozenEstimator(model), method=method).fit(X, y)


def fitted_temperature(calibrated):
    """The temperature a ``method="temperature"`` calibration fitted (above 1: the model was overconfident)."""
    return 1.0 / float(calibrated.calibrated_classifiers_[0].calibrators[0].beta_)


def run(X, y, seed):
    """Calibrate on one stratified half, score the other: method -> scores (None where unavailable)."""
    X_cal, X_eval, y_cal, y_eval = train_test_split(X, y, test_size=0.5, stratify=y, random_state=seed)
    model = load_pretrained()
    classes = np.asarray(model.classes_)
    methods = {"none": score(y_eval, model.predict_proba(X_eval), classes)}
    print(f"none: {methods['none']}", flush=True)
    for method in METHODS:
        start = time.perf_counter()
        calibrated = recalibrate(model, X_cal, y_cal, method)
        if calibrated is None:
            methods[method] = None
            continue
        methods[method] = {"fit_seconds": round(time.perf_counter() - start, 1),
                           **score(y_eval, calibrated.predict_proba(X_eval), np.asarray(calibrated.classes_))}
        if method == "temperature":
            methods[method]["temperature"] = round(fitted_temperature(calibrated), 4)
        print(f"{method}: {methods[method]}", flush=True)
    return {"calibration_faces": int(len(y_cal)), "evaluation_faces": int(len(y_eval)), "methods": methods}


def markdown(result):
    """The results as a Markdown table: accuracy, confidence, ECE and log loss of each method on the held-out half."""
    lines = [
        f"# Recalibrating the default model on half of PublicTest ({result['date']})",
        "",
        f"Command: `{result['command']}`. CPU {result['machine']['cpu']} "
        f"({' '.join(result['machine']['cpu_flags'])}); scikit-learn {result['versions']['scikit-learn']}. "
        f"`{result['model']}` (`load_pretrained()`, predicting with its 8-bit engine) frozen and recalibrated "
        f"with `CalibratedClassifierCV(FrozenEstimator(model), method=...)` on {result['calibration_faces']} "
        f"PublicTest faces, scored on the other {result['evaluation_faces']} (a stratified split, "
        f"`random_state={result['seed']}`). ECE: top-label, 15 equal-width bins "
        "(`skfer.expected_calibration_error`). Lower ECE and log loss are better.",
        "",
        "| method | accuracy | mean confidence | ECE | log loss | fitted |",
        "|---|---|---|---|---|---|",
    ]
    for method, entry in result["methods"].items():
        if entry is None:
            lines.append(f"| {method} | | | | | not in scikit-learn {result['versions']['scikit-learn']} |")
            continue
        fitted = "" if method == "none" else f"{entry['fit_seconds']:.1f} s"
        if "temperature" in entry:
            fitted += f", temperature {entry['temperature']:.3f}"
        lines.append(f"| {method} | {entry['accuracy']:.2%} | {entry['confidence']:.2%} | {entry['ece']:.4f} "
                     f"| {entry['log_loss']:.4f} "
                     f"| {fitted} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.environ.get("SKFER_DATA") or DEFAULT_DATA,
                        help="FER2013 CSV or its folder (default: ../shared/data/fer2013)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the stratified split")
    parser.add_argument("--quick", action="store_true", help="600 faces, results to a temporary folder")
    parser.add_argument("--output", type=Path, default=None, help="results folder (default: benchmarks/results)")
    args = parser.parse_args(argv)

    data = load_fer2013(args.data, usage="PublicTest")
    X, y = np.asarray(data.data), np.asarray(data.target)
    if args.quick:
        X, y = X[:600], y[:600]
    result = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": shlex.join(["python", "benchmarks/calibration.py", *(argv if argv is not None else sys.argv[1:])]),
        "model": DEFAULT_MODEL,
        "seed": args.seed,
        "machine": machine(),
        "versions": versions("tensorflow", extra=("onnxruntime",)),
        **run(X, y, args.seed),
    }
    output = args.output or (Path(os.environ.get("TMPDIR", "/tmp")) if args.quick else RESULTS)
    output.mkdir(parents=True, exist_ok=True)
    (output / "calibration.json").write_text(json.dumps(result, indent=2) + "\n")
    (output / "calibration.md").write_text(markdown(result))
    print(f"wrote {output / 'calibration.md'}")


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow is imported later, by main()
    main()
