"""Train a recipe on FER2013 Training, score it on PublicTest, record the run.

A thin command over the library's main job, :func:`skfer.experiments.train_fer2013`
(the code behind ``skfer train``): the same loading, training, checkpointing
and report. It adds what a benchmark needs: a run name, any FERClassifier
parameter with ``--param NAME=VALUE``, a wall-clock budget (``--minutes``),
the PublicTest accuracy under each test-time augmentation, and the exact
command, in ``benchmarks/results/<run-name>/metrics.json`` beside the report
PNGs. The fitted pipeline and the per-epoch checkpoint go to ``--output``
(default ``~/skfer-runs/<run-name>``, outside the work tree): rerunning the
same command resumes an interrupted run. PublicTest figures are validation
accuracy: the split picks recipes (and the best epoch, where early stopping is
on).

Examples
--------
The cosine recipe for 30 epochs::

    python benchmarks/train_fer2013.py --run-name crop_cosine --recipe crop_cosine

A variant, with a 90-minute budget::

    python benchmarks/train_fer2013.py --run-name crop40 --recipe crop_cosine \\
        --param crop_size=40 --minutes 90
"""

import argparse
import ast
import os
import shlex
import sys
import time
from pathlib import Path

from skfer.experiments import TimeBudget
from skfer.experiments import DEFAULT_RECIPE, RECIPES
from skfer.experiments import train_fer2013

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "fer2013"


def parse_param(text):
    """``NAME=VALUE`` as (name, Python literal), or (name, string) for a plain word."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"--param takes NAME=VALUE, got {text!r}")
    try:
        return name, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return name, value


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-name", required=True, help="folder under benchmarks/results/")
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder of the run folders")
    parser.add_argument("--data", default=os.environ.get("SKFER_DATA") or DEFAULT_DATA,
                        help="FER2013 CSV or its folder (default $SKFER_DATA, else ../shared/data/fer2013)")
    parser.add_argument("--recipe", default=DEFAULT_RECIPE, choices=sorted(RECIPES))
    parser.add_argument("--epochs", type=int, help="default: the recipe's")
    parser.add_argument("--minutes", type=float, help="stop after the first epoch that ends past this budget")
    parser.add_argument("--param", action="append", default=[], type=parse_param, metavar="NAME=VALUE",
                        help="any FERClassifier parameter, e.g. --param crop_size=40 (repeatable)")
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--subset", type=int, help="train on N stratified Training faces (smoke tests)")
    parser.add_argument("--output", help="pipeline and checkpoint folder (default ~/skfer-runs/RUN_NAME)")
    parser.add_argument("--restart", action="store_true", help="start over instead of resuming")
    parser.add_argument("--tta", nargs="*", default=["flip", "ten_crop"], choices=["flip", "ten_crop"],
                        help="test-time augmentations to score besides none (default: both)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    output = Path(args.output or Path.home() / "skfer-runs" / args.run_name)
    report_dir = args.results / args.run_name
    budget = [TimeBudget(args.minutes)] if args.minutes else []
    started = time.perf_counter()
    pipe = train_fer2013(
        output, data=args.data, recipe=args.recipe, epochs=args.epochs, subset=args.subset,
        random_state=args.random_state, restart=args.restart, report_dir=report_dir,
        callbacks=budget, **dict(args.param),
        extra={"run_name": args.run_name, "command": shlex.join([Path(sys.executable).name, *sys.argv])},
    )
    from skfer.experiments import accuracy_by_tta, update_metrics
    from skfer.datasets import load_fer2013

    update_metrics(report_dir, stopped_by_time_budget=bool(budget and budget[0].stopped))

    val = load_fer2013(args.data, usage="PublicTest")
    X_val, y_val = (val.data, val.target) if args.subset is None else (None, None)
    if X_val is not None:
        by_tta = accuracy_by_tta(pipe, X_val, y_val, ttas=[None, *args.tta])
        update_metrics(report_dir, accuracy_by_tta=by_tta,
                       wall_seconds_total=round(time.perf_counter() - started, 1))
        print(f"{args.run_name}: PublicTest accuracy " + ", ".join(f"{k} {v:.4f}" for k, v in by_tta.items()))
    print(f"report in {report_dir}, pipeline and checkpoint in {output}")


if __name__ == "__main__":
    main()
