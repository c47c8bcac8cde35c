"""Count the Keras epochs that TensorFlow runs on one core, under several thread and input settings.

On the project's 2-core machine some whole ``Model.fit`` epochs run at half
speed with the process keeping one core busy instead of two. Each setting
below trains the default DCNN (no augmentation, batch 32) on 1,024 random
faces for one warm-up and 12 timed epochs in its own process, and records
each epoch's images/s and CPU cores busy (process CPU time / wall time).

Results go to ``benchmarks/results/tf_epoch_modes.json``.

Example
-------
::

    python benchmarks/tf_epoch_modes.py
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
FACES, EPOCHS, BATCH = 1024, 12, 32

#: Setting name -> (environment variables, input kind).
SETTINGS = {
    "default": ({}, "arrays"),
    "inter_op_1": ({"INTER": "1"}, "arrays"),
    "intra_op_2_inter_op_1": ({"INTRA": "2", "INTER": "1"}, "arrays"),
    "intra_op_3": ({"INTRA": "3"}, "arrays"),
    "intra_op_4": ({"INTRA": "4"}, "arrays"),
    "steps_per_execution_8": ({"SPE": "8"}, "arrays"),
    "tf_data_private_threadpool": ({}, "tf_data_private"),
    "py_dataset": ({}, "py_dataset"),
}


def worker(kind):
    """Train in this process and print one JSON line of per-epoch figures."""
    import numpy as np
    import tensorflow as tf

    if os.environ.get("INTRA"):
        tf.config.threading.set_intra_op_parallelism_threads(int(os.environ["INTRA"]))
    if os.environ.get("INTER"):
        tf.config.threading.set_inter_op_parallelism_threads(int(os.environ["INTER"]))
    import keras

    from skfer.models import build_dcnn

    rng = np.random.default_rng(0)
    X, y = rng.random((FACES, 2304), dtype=np.float32), rng.integers(0, 7, FACES)
    model = build_dcnn()
    model.compile(optimizer=keras.optimizers.Nadam(1e-3), loss="sparse_categorical_crossentropy",
                  steps_per_execution=int(os.environ.get("SPE", 1)))

    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return FACES // BATCH

        def __getitem__(self, i):
            return X[i * BATCH : (i + 1) * BATCH], y[i * BATCH : (i + 1) * BATCH]

    def data():
        if kind == "tf_data_private":
            options = tf.data.Options()
            options.threading.private_threadpool_size = 1
            return tf.data.Dataset.from_tensor_slices((X, y)).shuffle(FACES).batch(BATCH).prefetch(2).with_options(options)
        return Batches() if kind == "py_dataset" else None

    def epoch():
        batches = data()
        if batches is None:
            model.fit(X, y, batch_size=BATCH, epochs=1, verbose=0)
        else:
            model.fit(batches, epochs=1, verbose=0)

    epoch()
    speeds, cores = [], []
    for _ in range(EPOCHS):
        cpu, start = sum(os.times()[:2]), time.perf_counter()
        epoch()
        wall = time.perf_counter() - start
        speeds.append(FACES / wall)
        cores.append((sum(os.times()[:2]) - cpu) / wall)
    print(json.dumps({"images_per_s": speeds, "cores_busy": cores}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, default=RESULTS / "tf_epoch_modes.json")
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker)
    result = {"faces": FACES, "epochs": EPOCHS, "batch_size": BATCH, "settings": {}}
    for name, (env, kind) in SETTINGS.items():
        proc = subprocess.run(
            [sys.executable, __file__, "--worker", kind],
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow", **env},
            capture_output=True, text=True, check=True,
        )
        run = json.loads(proc.stdout.strip().splitlines()[-1])
        run["one_core_epochs"] = sum(c < 1.25 for c in run["cores_busy"])
        result["settings"][name] = run
        print(f"{name:28s} one-core epochs {run['one_core_epochs']:2d}/{EPOCHS}  "
              + " ".join(f"{s:.0f}" for s in run["images_per_s"]), flush=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
