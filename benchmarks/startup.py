"""Start-up times: ``import skfer``, ``skfer --help`` and the first Keras-backed import.

Each command runs in a fresh process ``--repeats`` times; the median wall
time is kept. Targets (issue: lazy imports): ``import skfer`` <= 1.5 s and
``skfer --help`` <= 1 s without TensorFlow's log lines. Writes
``benchmarks/results/startup.json``.

Example::

    python benchmarks/startup.py --repeats 5
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from skfer.experiments import machine

RESULTS = Path(__file__).resolve().parent / "results"
COMMANDS = {
    "import skfer": [sys.executable, "-c", "import skfer"],
    "skfer --help": [sys.executable, "-m", "skfer.cli", "--help"],
    "from skfer import FERClassifier (loads Keras and TensorFlow)": [
        sys.executable, "-c", "from skfer import FERClassifier",
    ],
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    results = {}
    for name, command in COMMANDS.items():
        seconds, stderr = [], ""
        for _ in range(args.repeats):
            start = time.perf_counter()
            run = subprocess.run(command, capture_output=True, text=True, check=True)
            seconds.append(time.perf_counter() - start)
            stderr = run.stderr
        results[name] = {
            "median_s": round(statistics.median(seconds), 3),
            "all_s": [round(s, 3) for s in seconds],
            "stderr_lines": len(stderr.splitlines()),
        }
        print(f"{name}: {results[name]['median_s']} s, {results[name]['stderr_lines']} stderr lines")
    out = {
        "results": results,
        "load_average": os.getloadavg(),
        "machine": machine(),
        "command": " ".join(["python", *sys.argv]),
    }
    (RESULTS / "startup.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
