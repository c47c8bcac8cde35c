"""Start-up times and memory: ``import skfer``, ``skfer --help``, ``skfer predict`` on one photo, the first Keras import.

Each command runs in a fresh process ``--repeats`` times; the median wall
time and the largest peak memory (resident set) are kept. Targets:
``import skfer`` <= 1.5 s and ``skfer --help`` <= 1 s without TensorFlow's
log lines; ``skfer predict`` on one photo with the shipped model (ONNX
Runtime, no TensorFlow) under 2 s and 300 MB. Writes
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
import tempfile
import time
from pathlib import Path

from skfer.experiments import machine

RESULTS = Path(__file__).resolve().parent / "results"
#: scikit-image's astronaut portrait (the [test] extra), written here by main().
PHOTO = Path(tempfile.gettempdir()) / "skfer-startup-astronaut.png"
COMMANDS = {
    "import skfer": [sys.executable, "-c", "import skfer"],
    "skfer --help": [sys.executable, "-m", "skfer.cli", "--help"],
    "skfer predict astronaut.png (the shipped model, one photo)": [
        sys.executable, "-m", "skfer.cli", "predict", str(PHOTO), "-q",
    ],
    "from skfer import FERClassifier (loads Keras and TensorFlow)": [
        sys.executable, "-c", "from skfer import FERClassifier",
    ],
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    import cv2
    from skimage import data

    cv2.imwrite(str(PHOTO), cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
    results = {}
    for name, command in COMMANDS.items():
        seconds, peaks, stderr = [], [], ""
        for _ in range(args.repeats):
            start = time.perf_counter()
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            stderr = process.stderr.read()
            _, status, usage = os.wait4(process.pid, 0)
            seconds.append(time.perf_counter() - start)
            if os.waitstatus_to_exitcode(status):
                raise SystemExit(f"{name} failed:\n{stderr}")
            peaks.append(usage.ru_maxrss / 1024)  # kB on Linux
        results[name] = {
            "median_s": round(statistics.median(seconds), 3),
            "all_s": [round(s, 3) for s in seconds],
            "peak_memory_mb": round(max(peaks), 1),
            "stderr_lines": len(stderr.splitlines()),
        }
        print(f"{name}: {results[name]['median_s']} s, {results[name]['peak_memory_mb']} MB, "
              f"{results[name]['stderr_lines']} stderr lines")
    out = {
        "results": results,
        "load_average": os.getloadavg(),
        "machine": machine(),
        "command": " ".join(["python", *sys.argv]),
    }
    (RESULTS / "startup.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
