"""Train several FER2013 variants at once on one accelerator, each in its own process.

One command reads a TOML file of variants (``variants.toml`` beside this
script), starts one process per variant, and each process trains its
network on Training and scores it on PublicTest within a shared time
budget. The script uses plain Keras 3 and skfer's model builders, loss and
schedule (no scikeras, no TensorFlow), on whichever backend
``KERAS_BACKEND`` names: JAX on the GPU machine, any backend on a CPU.

Each process keeps all faces on the device, as uint8, inside the training
model (a non-trainable variable of :class:`ResidentFaces`): a training step
receives only the indices of its batch and gathers the faces on the
device. Faces are scaled to [0, 1], as ``make_fer_pipeline`` does by
default. The learning rate is scaled linearly with the batch size
(``learning_rate`` is the rate at ``base_batch_size``), warms up linearly,
then follows half a cosine (:class:`skfer.experiments.CosineSchedule`). After
two epochs each process measures its epoch time and shortens its schedule,
if it must, so that it ends (cosine at its floor) before the budget.

For every variant, ``OUT/<name>/`` gets ``metrics.json`` (PublicTest
accuracy, with flip and, for cropping networks, ten-crop test-time
averaging; epochs; time; images per second; FLOPs per image; hardware;
versions; command), ``history.json``, ``train.log`` and
``model.weights.h5`` (the builder's network, loadable with
``ARCHITECTURES[architecture](**builder_kwargs, augmentation=...)`` then
``load_weights``). A variant whose process fails gets a ``metrics.json``
with ``"status": "failed"`` and the end of its log.

Examples
--------
On the GPU machine (see README.md beside this script)::

    KERAS_BACKEND=jax python3 benchmarks/gpu/train_variants.py benchmarks/gpu/variants.toml \\
        --data .gpudata/fer2013.npz --minutes 8 --out runs

A tiny CPU check of the whole path::

    python benchmarks/gpu/train_variants.py variants.toml --data fer.npz --limit 256 --epochs 1
"""

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import numpy as np

from prepare import read_faces

#: Keys a variant may set, with their defaults (``[defaults]`` in the TOML file overrides these).
DEFAULTS = {
    "architecture": "dcnn",
    "model": {},  # keyword arguments of the builder, e.g. filters = [32, 64, 128]
    "augment": {"rotation": 10.0, "shift": 0.1, "shear": 0.0, "zoom": 0.1, "horizontal_flip": True},
    "crop_size": None,
    "dtype": "mixed_bfloat16",
    "batch_size": 256,
    "base_batch_size": 32,
    "learning_rate": 1e-3,
    "optimizer": "nadam",
    "momentum": 0.9,
    "weight_decay": None,
    "label_smoothing": 0.0,
    "epochs": 100,
    "warmup_epochs": 5,
    "steps_per_execution": 1,
    "seed": 0,
}


def load_variants(path):
    """The variants of a TOML file, each a complete settings dict with its ``name``."""
    config = tomllib.loads(Path(path).read_text())
    unknown = set(config) - {"defaults", "variant"}
    if unknown:
        raise ValueError(f"{path}: unknown top-level tables {sorted(unknown)}; use [defaults] and [[variant]]")
    defaults = {**DEFAULTS, **config.get("defaults", {})}
    if set(defaults) != set(DEFAULTS):
        raise ValueError(f"{path}: [defaults] has unknown keys {sorted(set(defaults) - set(DEFAULTS))}")
    variants = []
    for i, variant in enumerate(config.get("variant", [])):
        name = variant.get("name")
        if not name or not str(name).replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"{path}: variant {i + 1} needs a name of letters, digits, '-' and '_'; got {name!r}")
        wrong = (set(variant) - {"name"}) - set(DEFAULTS)
        if wrong:
            raise ValueError(f"{path}: variant {name!r}: unknown keys {sorted(wrong)}; known: {sorted(DEFAULTS)}")
        variants.append({**defaults, **variant})
    names = [v["name"] for v in variants]
    if not variants or len(set(names)) != len(names):
        raise ValueError(f"{path}: needs at least one [[variant]], each with its own name; got {names}")
    return variants


# --- one variant, in its own process ------------------------------------------------------------


def _child(args, variant):
    import keras

    from skfer.experiments import CosineSchedule
    from skfer import EMOTIONS
    from skfer.experiments import classification_scores
    from skfer.experiments import machine, versions
    from skfer.experiments import epoch_summary
    from skfer.models import ARCHITECTURES, FaceCrop, RandomAffine, SmoothedSparseCrossentropy, flops_per_image

    class ResidentFaces(keras.layers.Layer):
        """Faces kept on the device as uint8; maps batch indices to faces scaled to [0, 1]."""

        def __init__(self, faces, **kwargs):
            super().__init__(**kwargs)
            self.faces = self.add_weight(shape=faces.shape, dtype="uint8", trainable=False,
                                         initializer=lambda shape, dtype: faces, name="faces")

        def call(self, indices):
            batch = keras.ops.take(self.faces, keras.ops.cast(indices, "int32"), axis=0)
            return keras.ops.cast(batch, "float32") / 255.0

    class Budget(keras.callbacks.Callback):
        """Time epochs; after two, fit the schedule into the time left; stop at its end or the deadline."""

        def __init__(self, schedule, deadline):
            super().__init__()
            self.schedule, self.deadline, self.epoch_s, self.out_of_time = schedule, deadline, [], False

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.epoch_s.append(time.perf_counter() - self._start)
            left = self.deadline - time.time()
            if epoch == 1:
                affordable = epoch + 1 + int(left // self.epoch_s[-1])
                self.schedule.epochs = max(epoch + 2, min(self.schedule.epochs, affordable))
            if epoch + 1 >= self.schedule.epochs:
                self.model.stop_training = True
            elif left < self.epoch_s[-1]:
                self.out_of_time = self.model.stop_training = True

    keras.utils.set_random_seed(variant["seed"])
    faces, emotion, usage = read_faces(args.data)
    train, val = (np.flatnonzero(usage == split)[: args.limit].astype(np.int32)
                  for split in ("Training", "PublicTest"))
    augmentation = [RandomAffine(**variant["augment"], seed=variant["seed"], name="affine")]
    if variant["crop_size"]:
        augmentation.append(FaceCrop(variant["crop_size"], seed=variant["seed"], name="crop"))
    builder = ARCHITECTURES[variant["architecture"]]
    network = builder(len(EMOTIONS), augmentation=augmentation, dtype=variant["dtype"],
                      seed=variant["seed"], **variant["model"])
    indices = keras.Input(shape=(), dtype="int32", name="face_index")
    trainer = keras.Model(indices, network(ResidentFaces(faces, name="resident_faces")(indices)))

    batch = variant["batch_size"]
    learning_rate = variant["learning_rate"] * batch / variant["base_batch_size"]
    if variant["optimizer"] == "sgd_nesterov":
        optimizer = keras.optimizers.SGD(learning_rate, momentum=variant["momentum"], nesterov=True)
    else:
        optimizer = keras.optimizers.get(variant["optimizer"])
        optimizer.learning_rate = learning_rate
    if variant["weight_decay"]:
        optimizer.weight_decay = variant["weight_decay"]
    smoothing = variant["label_smoothing"]
    loss = SmoothedSparseCrossentropy(smoothing) if smoothing else "sparse_categorical_crossentropy"
    trainer.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"],
                    steps_per_execution=variant["steps_per_execution"])

    epochs = args.epochs or variant["epochs"]
    schedule = CosineSchedule(learning_rate, epochs, warmup=min(variant["warmup_epochs"], epochs - 1) / epochs)
    budget = Budget(schedule, args.deadline)
    fit_start = time.perf_counter()
    history = trainer.fit(train, emotion[train], batch_size=batch, epochs=epochs, shuffle=True,
                          validation_data=(val, emotion[val]), callbacks=[schedule, budget], verbose=2)
    fit_s = time.perf_counter() - fit_start

    from skfer.experiments import tta_views  # the library's test-time views, one definition

    X_val = faces[val].astype(np.float32) / 255.0
    accuracies, predictions = {}, {}
    for tta in (None, "flip", "ten_crop"):
        if tta == "ten_crop" and not variant["crop_size"]:
            continue
        views = tta_views(X_val, tta, variant["crop_size"])
        proba = np.mean([network.predict(view, batch_size=1024, verbose=0) for view in views], axis=0)
        predictions[tta] = proba.argmax(axis=1)
        accuracies[tta] = float(np.mean(predictions[tta] == emotion[val]))
    steady = budget.epoch_s[1:] or budget.epoch_s
    out = args.out / variant["name"]
    network.save_weights(out / "model.weights.h5")
    curves = {key: [float(v) for v in values] for key, values in history.history.items()}
    metrics = {
        "run_name": variant["name"],
        "status": "completed",
        "split": "PublicTest (validation)",
        "n_train": len(train),
        "n_val": len(val),
        "tta": None,
        **classification_scores(emotion[val], predictions[None], labels=list(range(len(EMOTIONS)))),
        "accuracy_by_tta": {"none" if tta is None else tta: value for tta, value in accuracies.items()},
        # epochs_run, best_epoch, fit_seconds and seconds_per_epoch as skfer train records them
        **epoch_summary({**curves, "epoch_seconds": budget.epoch_s}),
        "epochs_planned": schedule.epochs,
        "stopped_by_time_budget": budget.out_of_time,
        "first_epoch_seconds": budget.epoch_s[0],  # includes XLA compilation
        "train_images_per_second": len(train) / float(np.mean(steady)),  # after the first epoch
        "flops_per_image": flops_per_image(network),
        "parameters": network.count_params(),
        "architecture": variant["architecture"],
        "builder_kwargs": variant["model"],
        "learning_rate_scaled": learning_rate,
        "variant": variant,
        "backend": keras.backend.backend(),
        "machine": machine(),
        "versions": versions(keras.backend.backend()),
        "command": args.command,
        "parallel_runs": args.parallel_runs,
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2, default=str) + "\n")
    (out / "history.json").write_text(json.dumps(curves, indent=2) + "\n")
    print(f"{variant['name']}: PublicTest {accuracies[None]:.4f} (flip {accuracies['flip']:.4f}), "
          f"{len(budget.epoch_s)} epochs, {fit_s:.0f} s")


# --- the parent: start one process per variant, record every outcome ----------------------------


def _failure(variant, returncode, log, args):
    from skfer.experiments import machine

    tail = log.read_text(errors="replace").splitlines()[-15:] if log.exists() else []
    return {
        "run_name": variant["name"], "status": "failed", "returncode": returncode,
        "error": "\n".join(tail) or f"exit status {returncode}, no log",
        "architecture": variant["architecture"], "variant": variant, "machine": machine(),
        "command": args.command,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("variants", type=Path, help="TOML file of [defaults] and [[variant]] tables")
    parser.add_argument("--data", type=Path, default=Path(".gpudata/fer2013.npz"),
                        help="file written by prepare.py")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "results",
                        help="one folder per variant is written here")
    parser.add_argument("--minutes", type=float, default=8.0, help="wall-clock budget of the whole command")
    parser.add_argument("--only", nargs="+", help="train only these variants")
    parser.add_argument("--epochs", type=int, help="override every variant's epochs (smoke tests)")
    parser.add_argument("--limit", type=int, help="use only the first LIMIT faces of each split (smoke tests)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--deadline", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--command", help=argparse.SUPPRESS)
    parser.add_argument("--parallel-runs", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        variants = load_variants(args.variants)
    except (OSError, ValueError) as error:
        raise SystemExit(f"error: {error}") from None

    if args.child:
        _child(args, next(v for v in variants if v["name"] == args.child))
        return 0

    if args.only:
        missing = set(args.only) - {v["name"] for v in variants}
        if missing:
            raise SystemExit(f"--only: no variants {sorted(missing)} in {args.variants}")
        variants = [v for v in variants if v["name"] in args.only]
    if not args.data.is_file():
        raise SystemExit(f"--data {args.data} does not exist; run benchmarks/gpu/prepare.py first")
    start = time.time()
    # Leave a tenth of the budget (at most a minute) for scoring, test-time views and saving.
    deadline = start + 60 * args.minutes - min(60.0, 6.0 * args.minutes)
    args.command = shlex.join([Path(sys.executable).name, *(sys.argv if argv is None else [__file__, *argv])])
    env = {**os.environ, "XLA_PYTHON_CLIENT_PREALLOCATE": "false", "PYTHONUNBUFFERED": "1"}
    running = []
    for variant in variants:
        out = args.out / variant["name"]
        out.mkdir(parents=True, exist_ok=True)
        (out / "metrics.json").unlink(missing_ok=True)
        child = [sys.executable, str(Path(__file__).resolve()), str(args.variants), "--data", str(args.data),
                 "--out", str(args.out), "--child", variant["name"], "--deadline", str(deadline),
                 "--command", args.command, "--parallel-runs", str(len(variants))]
        child += [f"--{key}={value}" for key in ("epochs", "limit") if (value := getattr(args, key))]
        log = open(out / "train.log", "w")
        running.append((variant, out, subprocess.Popen(child, stdout=log, stderr=subprocess.STDOUT, env=env), log))
    failed = 0
    for variant, out, process, log in running:
        returncode = process.wait()
        log.close()
        if returncode or not (out / "metrics.json").is_file():
            failed += 1
            failure = _failure(variant, returncode, out / "train.log", args)
            (out / "metrics.json").write_text(json.dumps(failure, indent=2, default=str) + "\n")
            print(f"{variant['name']}: FAILED (exit {returncode}), see {out / 'train.log'}")
        else:
            metrics = json.loads((out / "metrics.json").read_text())
            print(f"{variant['name']}: PublicTest {metrics['accuracy']:.4f}, {metrics['epochs_run']} epochs, "
                  f"{metrics['seconds_per_epoch']:.2f} s/epoch")
    print(f"{len(variants) - failed} of {len(variants)} variants trained in {time.time() - start:.0f} s -> {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
