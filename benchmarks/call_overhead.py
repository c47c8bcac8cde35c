"""Where the time of one face goes on skfer's default prediction path, stage by stage.

``load_pretrained().predict_proba`` on one raw face runs the pipeline's two
transformers (pixel parsing and checks, scaling), then the classifier, which
checks that the 8-bit engine was made from ``model_``'s current weights and
runs the engine. Each stage is timed on its own, in one process, round by
round (every stage once per round, so that other load falls on all alike),
with the same face: its median time per call over ``--calls`` calls, then
the median over rounds. ``load_pretrained_onnx()`` (the ONNX-only path of
``skfer predict``, no Keras network, hence no weight check) runs beside it.
Time it while nothing else runs: pause a background fit with
``kill -STOP PID`` (and ``kill -CONT PID`` after).

Results: ``--output`` (JSON) and the same name with ``.md``, with the CPU
model and flags and the 1-minute load average before and after.

Examples
--------
::

    python benchmarks/call_overhead.py --output benchmarks/results/call_overhead_zen5.json
    python benchmarks/call_overhead.py --quick --output /tmp/overhead.json
"""

import argparse
import datetime
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from skfer.experiments import machine, versions  # noqa: E402
from skfer.pretrained import load_pretrained, load_pretrained_onnx  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def stages(face):
    """Stage name -> a call on ``face`` (one raw face, shape (1, 2304), 0-255)."""
    pipeline, onnx = load_pretrained(), load_pretrained_onnx()
    classifier = pipeline[-1]
    scaled = pipeline[:-1].transform(face)
    return {
        "default path (pipeline.predict_proba)": lambda: pipeline.predict_proba(face),
        "transformers (pipeline[:-1].transform)": lambda: pipeline[:-1].transform(face),
        "classifier (predict_proba on scaled faces)": lambda: classifier.predict_proba(scaled),
        "weight check (engine_.made_from(model_))": lambda: classifier.engine_.made_from(classifier.model_),
        "engine (engine_.predict_on_batch)": lambda: classifier.engine_.predict_on_batch(scaled),
        "load_pretrained_onnx().predict_proba": lambda: onnx.predict_proba(face),
    }


def measure(calls, rounds, n_calls):
    """Each call's median milliseconds per round, and the median over rounds."""
    per_round = {name: [] for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            call()  # warm
            times = []
            for _ in range(n_calls):
                start = time.perf_counter()
                call()
                times.append(time.perf_counter() - start)
            per_round[name].append(statistics.median(times) * 1e3)
    return {name: {"median_ms": statistics.median(ms), "rounds_ms": ms} for name, ms in per_round.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--quick", action="store_true", help="test the script: 2 rounds of 20 calls")
    parser.add_argument("--output", type=Path, default=RESULTS / "call_overhead.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.calls = 2, 20
    face = np.random.default_rng(0).integers(0, 256, (1, 2304)).astype(np.float32)
    load_before = os.getloadavg()[0]
    timings = measure(stages(face), args.rounds, args.calls)
    results = {
        "command": "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine(), "versions": versions("tensorflow", extra=("onnxruntime",)),
        "rounds": args.rounds, "calls": args.calls,
        "load_1min": [load_before, os.getloadavg()[0]],
        "stages": timings,
    }
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    args.output.with_suffix(".md").write_text(_markdown(results))
    print(_markdown(results))
    return 0


def _markdown(r):
    lines = [
        "# One face on the default path, stage by stage",
        "",
        f"Command: `{r['command']}`, {r['date']}. CPU: {r['machine']['cpu']} ({r['machine']['cpu_count']} usable, "
        f"{', '.join(r['machine']['cpu_flags'])}); 1-min load {r['load_1min'][0]:.2f} -> {r['load_1min'][1]:.2f}. "
        f"Median of {r['rounds']} rounds, each the median of {r['calls']} calls on one (1, 2304) face.",
        "",
        "| stage | ms per call |",
        "|---|---|",
        *(f"| {name} | {t['median_ms']:.3f} |" for name, t in r["stages"].items()),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
