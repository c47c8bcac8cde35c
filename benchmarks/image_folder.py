"""Time load_image_folder on 10,000 small generated images, one sub-folder per emotion.

Writes 10,000 random 48x48 grayscale PNG images (and 64x64 colour JPEG
ones, resized on loading) into a temporary folder of seven emotion
sub-folders, then times ``load_image_folder(path, crop=False)`` (images
taken as faces) with 1 and 2 reading threads, from a warm page cache: wall
time and the process's CPU time (which other work on the machine
inflates less).

Results go to ``benchmarks/results/image_folder.json``.

Example
-------
::

    python benchmarks/image_folder.py
"""

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from skfer.experiments import machine
from skfer import EMOTIONS
from skfer.datasets import load_image_folder

RESULTS = Path(__file__).resolve().parent / "results"
KINDS = {"png_48x48_gray": ((48, 48), "png"), "jpeg_64x64_colour": ((64, 64, 3), "jpg")}


def write_folder(root, n, shape, ext):
    rng = np.random.default_rng(0)
    for i in range(n):
        folder = root / EMOTIONS[i % len(EMOTIONS)]
        folder.mkdir(exist_ok=True)
        cv2.imwrite(str(folder / f"{i}.{ext}"), rng.integers(0, 256, shape, dtype=np.uint8))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=10_000)
    args = parser.parse_args()
    record = {"command": f"python benchmarks/image_folder.py --images {args.images}",
              "images": args.images, "machine_before": {**machine(), "load_average": os.getloadavg()}, "seconds": {},
              "cpu_seconds": {}}
    for kind, (shape, ext) in KINDS.items():
        with tempfile.TemporaryDirectory() as tmp:
            write_folder(Path(tmp), args.images, shape, ext)
            load_image_folder(tmp, crop=False)  # warm the page cache
            for n_jobs in (1, 2):
                start, cpu = time.perf_counter(), time.process_time()
                faces = load_image_folder(tmp, crop=False, n_jobs=n_jobs)
                seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
                assert faces.data.shape == (args.images, 2304)
                record["seconds"][f"{kind}_n_jobs_{n_jobs}"] = round(seconds, 2)
                record["cpu_seconds"][f"{kind}_n_jobs_{n_jobs}"] = round(cpu, 2)
    record["machine_after"] = {**machine(), "load_average": os.getloadavg()}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "image_folder.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
