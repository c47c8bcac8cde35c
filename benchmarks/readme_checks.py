"""Run the README's quick check and its sweep exactly as written, and record what they score.

Two checks that a newcomer runs first, so they must show that the model
learns:

* ``quick``: ``skfer train --subset 2000 --epochs 3`` (the default recipe on
  2,000 stratified Training faces, validated on 500 PublicTest faces);
* ``sweep``: the README's ``GridSearchCV`` over optimizer and dropout (3,000
  stratified Training faces, 2 x 2 candidates, 3 folds, 8 epochs each, the
  default network), each cell's mean and spread over the folds.

Chance is 25% (always answering Happy). The results, with the CPU, its flags
and the versions, go to ``benchmarks/results/readme_checks.json`` and ``.md``.

Examples
--------
::

    python benchmarks/readme_checks.py
    python benchmarks/readme_checks.py --only sweep
"""

import argparse
import datetime
import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from sklearn.model_selection import GridSearchCV, train_test_split  # noqa: E402

from skfer import FERClassifier, load_fer2013, make_fer_pipeline  # noqa: E402
from skfer.experiments import machine, train_fer2013, versions  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "fer2013"


def quick_check(data):
    """``skfer train --subset 2000 --epochs 3``: its PublicTest accuracy on 500 faces and its seconds."""
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        train_fer2013(folder, data=data, subset=2000, epochs=3, verbose=0)
        seconds = time.perf_counter() - start
        metrics = json.loads((Path(folder) / "metrics.json").read_text())
    return {"command": "skfer train --subset 2000 --epochs 3", "publictest_accuracy": metrics["accuracy"],
            "publictest_faces": metrics["n_rows"], "seconds": round(seconds, 1)}


def readme_sweep(data):
    """The README's sweep, as written: each cell's mean score and its spread over the folds."""
    train = load_fer2013(data, usage="Training")
    X, _, y, _ = train_test_split(train.data, train.target, train_size=3000,
                                  stratify=train.target, random_state=0)
    pipe = make_fer_pipeline(FERClassifier(epochs=8, random_state=0))
    grid = {"ferclassifier__optimizer": ["adamw", "nadam"], "ferclassifier__dropout": [0.1, 0.4]}
    start = time.perf_counter()
    search = GridSearchCV(pipe, grid, cv=3).fit(X, y)
    seconds = time.perf_counter() - start
    results = search.cv_results_
    cells = [
        {"optimizer": params["ferclassifier__optimizer"], "dropout": params["ferclassifier__dropout"],
         "mean_test_score": round(float(mean), 4), "std_test_score": round(float(std), 4),
         "rank": int(rank)}
        for params, mean, std, rank in zip(results["params"], results["mean_test_score"],
                                           results["std_test_score"], results["rank_test_score"])
    ]
    return {"faces": len(y), "cv": 3, "epochs": 8, "cells": cells, "seconds": round(seconds, 1)}


def report(out):
    """The results as a Markdown page."""
    cpu = out["machine"]
    lines = [
        "# The README's checks, run as written",
        "",
        f"Run {out['date']} by `python benchmarks/readme_checks.py` on {cpu['cpu']} "
        f"({cpu['cpu_count']} cores; flags {', '.join(cpu['cpu_flags']) or 'none of note'}); "
        "chance is 25% (always Happy).",
        "",
        *([f"Note: {out['note']}", ""] if out.get("note") else []),
    ]
    if "quick" in out:
        quick = out["quick"]
        lines += [f"- `{quick['command']}`: {100 * quick['publictest_accuracy']:.2f}% on "
                  f"{quick['publictest_faces']} PublicTest faces (validation), {quick['seconds']:.0f} s.", ""]
    if "sweep" in out:
        sweep = out["sweep"]
        lines += [f"The sweep: {sweep['faces']:,} Training faces, {sweep['cv']} folds, {sweep['epochs']} "
                  f"epochs each, {sweep['seconds'] / 60:.0f} minutes.", "",
                  "| optimizer | dropout | mean CV accuracy | std over folds | rank |", "|---|---|---:|---:|---:|"]
        lines += [f"| {c['optimizer']} | {c['dropout']} | {c['mean_test_score']:.4f} | "
                  f"{c['std_test_score']:.4f} | {c['rank']} |" for c in sweep["cells"]]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("SKFER_DATA", DEFAULT_DATA))
    parser.add_argument("--only", choices=["quick", "sweep"], help="run one check (default: both)")
    parser.add_argument("--output", type=Path, default=RESULTS / "readme_checks.json")
    parser.add_argument("--note", help="circumstances of the run, recorded with it (e.g. other work beside it)")
    args = parser.parse_args(argv)
    out = {"date": datetime.date.today().isoformat(), "machine": machine(), "versions": versions("tensorflow"),
           **({"note": args.note} if args.note else {})}
    if args.only in (None, "quick"):
        out["quick"] = quick_check(args.data)
    if args.only in (None, "sweep"):
        out["sweep"] = readme_sweep(args.data)
    args.output.write_text(json.dumps(out, indent=2) + "\n")
    args.output.with_suffix(".md").write_text(report(out))
    print(report(out))


if __name__ == "__main__":
    main()
