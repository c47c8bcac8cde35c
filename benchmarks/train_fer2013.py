"""Train skfer's FER2013 recipe on Training, score it on PublicTest, record everything.

The default run is the seed notebook's recipe, built from the library itself::

    make_fer_pipeline(FERClassifier(epochs=100, random_state=0, verbose=2))

fitted on the Training split with ``validation_data=`` PublicTest, so early
stopping (patience 11 on validation accuracy, best weights restored) and
learning-rate reduction (x0.5 after 7 flat epochs, down to 1e-7) are active.
Options change the optimizer, the normalization, the epoch cap, and add
test-time flip averaging. PublicTest figures are validation accuracy: the
split drives early stopping and the choice between variants.

Results go to ``benchmarks/results/<run-name>/``: ``metrics.json``,
``history.json`` and ``confusion_matrix.png``.

Examples
--------
The seed recipe, reading ``../shared/data/fer2013`` (or ``$SKFER_DATA``)::

    python benchmarks/train_fer2013.py --run-name seed_recipe

Milder augmentation (any FERClassifier parameter can be set with ``--param``)::

    python benchmarks/train_fer2013.py --run-name no_shear --param shear=0

Ten more epochs of the shipped model at a lower learning rate::

    python benchmarks/train_fer2013.py --run-name more --from-pretrained --epochs 10 --learning-rate 1.25e-4

SGD with Nesterov momentum and flip averaging at test time::

    python benchmarks/train_fer2013.py --run-name sgd_tta --optimizer sgd \\
        --learning-rate 0.01 --momentum 0.9 --nesterov --tta
"""

import argparse
import ast
import bz2
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

import keras
import matplotlib
import numpy as np
import scikeras
import sklearn
from sklearn.metrics import ConfusionMatrixDisplay, accuracy_score

import skfer
from skfer import EMOTIONS, FERClassifier, load_fer2013, load_pretrained, make_fer_pipeline
from skfer._constants import IMAGE_SIZE
from skfer._evaluation import classification_scores

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "fer2013"


class EpochClock(keras.callbacks.Callback):
    """Time every epoch; stop training once ``budget_s`` seconds have passed."""

    def __init__(self, budget_s=None):
        super().__init__()
        self.budget_s = budget_s
        self.epoch_s = []
        self.out_of_time = False

    def on_train_begin(self, logs=None):
        self._train_start = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        now = time.perf_counter()
        self.epoch_s.append(now - self._epoch_start)
        if self.budget_s is not None and now - self._train_start > self.budget_s:
            self.out_of_time = True
            self.model.stop_training = True


def load_splits(npz_dir, data):
    """Training and PublicTest as (faces, emotion names); faces are strings or uint8 rows."""
    names = np.asarray(EMOTIONS)
    if npz_dir is None:
        train = load_fer2013(data, usage="Training")
        val = load_fer2013(data, usage="PublicTest")
        return (train.data, names[train.target]), (val.data, names[val.target])
    npz_dir = Path(npz_dir)
    labels = np.load(npz_dir / "labels.npz")
    deltas = np.frombuffer(bz2.decompress((npz_dir / "pixels_delta.u8.bz2").read_bytes()), np.uint8)
    faces = np.cumsum(deltas.reshape(-1, IMAGE_SIZE, IMAGE_SIZE), axis=2, dtype=np.uint8)
    faces = faces.reshape(len(faces), -1)
    usage, y = labels["usage"], names[labels["emotion"]]
    return tuple((faces[usage == split], y[usage == split]) for split in ("Training", "PublicTest"))


def predict_proba(pipe, X, tta):
    """Class probabilities; with ``tta``, averaged with those of the mirrored faces."""
    Xt = pipe[:-1].transform(X)
    proba = pipe[-1].predict_proba(Xt)
    if tta:
        mirrored = Xt.reshape(-1, IMAGE_SIZE, IMAGE_SIZE)[:, :, ::-1].reshape(len(Xt), -1)
        proba = (proba + pipe[-1].predict_proba(mirrored)) / 2
    return proba


def hardware():
    """GPU names from nvidia-smi (empty without one) and the CPU model."""
    try:
        smi = subprocess.run(
            ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True, text=True, check=True,
        )
        gpus = [line.strip() for line in smi.stdout.splitlines() if line.strip()]
    except (OSError, subprocess.CalledProcessError):
        gpus = []
    cpu = platform.processor()
    if Path("/proc/cpuinfo").exists():
        models = [line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")]
        cpu = models[0] if models else cpu
    return {"gpus": gpus, "cpu": cpu, "cpu_count": os.cpu_count()}


def versions():
    found = {"python": platform.python_version(), "skfer": skfer.__version__, "keras": keras.__version__,
             "scikeras": scikeras.__version__, "scikit-learn": sklearn.__version__, "numpy": np.__version__}
    backend = keras.backend.backend()
    found[backend] = __import__({"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}[backend]).__version__
    return found


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
    parser.add_argument("--run-name", default="seed_recipe", help="folder under benchmarks/results/")
    parser.add_argument("--data", default=os.environ.get("SKFER_DATA") or DEFAULT_DATA,
                        help="FER2013 CSV or its folder (default $SKFER_DATA, else ../shared/data/fer2013)")
    parser.add_argument("--npz-dir", help="read the compact labels.npz + pixels_delta.u8.bz2 form instead")
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--optimizer", default="nadam")
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--momentum", type=float, help="SGD momentum")
    parser.add_argument("--nesterov", action="store_true", help="SGD with Nesterov momentum")
    parser.add_argument("--normalize", choices=["scale", "standardize"], default="scale")
    parser.add_argument("--tta", action="store_true", help="average predictions over each face and its mirror")
    parser.add_argument("--param", action="append", default=[], type=parse_param, metavar="NAME=VALUE",
                        help="any other FERClassifier parameter, e.g. --param shear=0 (repeatable)")
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--max-minutes", type=float, help="stop training after this long (best weights kept)")
    parser.add_argument("--limit", type=int, help="use only the first LIMIT faces of each split (smoke tests)")
    parser.add_argument("--from-pretrained", action="store_true",
                        help="go on training skfer's pretrained model (warm start) instead of a new one")
    parser.add_argument("--save-model", help="save the fitted Keras model (.keras, or weights only: .weights.h5)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    matplotlib.use("Agg")
    out = RESULTS / args.run_name
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    (X_train, y_train), (X_val, y_val) = load_splits(args.npz_dir, args.data)
    X_train, y_train, X_val, y_val = (a[: args.limit] for a in (X_train, y_train, X_val, y_val))

    routed = {f"optimizer__{k}": v for k, v in [("momentum", args.momentum), ("nesterov", args.nesterov)] if v}
    clock = EpochClock(None if args.max_minutes is None else 60 * args.max_minutes)
    settings = dict(
        epochs=args.epochs, optimizer=args.optimizer, learning_rate=args.learning_rate,
        random_state=args.random_state, verbose=2, callbacks=[clock], **routed, **dict(args.param),
    )
    if args.from_pretrained:
        pipe = load_pretrained()
        pipe[-1].set_params(warm_start=True, **settings)
    else:
        pipe = make_fer_pipeline(FERClassifier(**settings), normalize=args.normalize)
    fit_start = time.perf_counter()
    pipe.fit(X_train, y_train, validation_data=(X_val, y_val))
    fit_s = time.perf_counter() - fit_start

    proba = {tta: predict_proba(pipe, X_val, tta) for tta in (False, True)}
    classes = pipe.classes_
    y_pred = classes[proba[args.tta].argmax(axis=1)]
    history = {k: [float(v) for v in values] for k, values in pipe[-1].history_.items()}
    metrics = {
        "run_name": args.run_name,
        "split": "PublicTest (validation)",
        "n_train": len(y_train),
        "n_val": len(y_val),
        "tta": args.tta,
        **classification_scores(y_val, y_pred, labels=list(EMOTIONS)),
        "accuracy_plain": accuracy_score(y_val, classes[proba[False].argmax(axis=1)]),
        "accuracy_flip_tta": accuracy_score(y_val, classes[proba[True].argmax(axis=1)]),
        "epochs_run": len(clock.epoch_s),
        "best_epoch": int(np.argmax(history["val_accuracy"])) + 1,
        "stopped_by_time_budget": clock.out_of_time,
        "fit_seconds": fit_s,
        "seconds_per_epoch": float(np.mean(clock.epoch_s)),
        "wall_seconds_total": time.perf_counter() - started,
        "normalize": args.normalize,
        "from_pretrained": args.from_pretrained,
        "classifier_params": {k: v for k, v in pipe[-1].get_params().items() if k != "callbacks"},
        "random_state": args.random_state,
        "backend": keras.backend.backend(),
        "hardware": hardware(),
        "versions": versions(),
        "command": shlex.join([Path(sys.executable).name, *sys.argv]),
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2, default=str) + "\n")
    (out / "history.json").write_text(json.dumps(history, indent=2) + "\n")
    display = ConfusionMatrixDisplay.from_predictions(
        y_val, y_pred, labels=list(EMOTIONS), normalize="true", values_format=".2f", cmap="Blues",
        xticks_rotation=45,
    )
    display.ax_.set_title(f"{args.run_name}: PublicTest accuracy {metrics['accuracy']:.4f}")
    display.figure_.tight_layout()
    display.figure_.savefig(out / "confusion_matrix.png", dpi=120)
    if args.save_model:
        model = pipe[-1].model_
        (model.save_weights if args.save_model.endswith(".weights.h5") else model.save)(args.save_model)
    print(f"{args.run_name}: PublicTest accuracy {metrics['accuracy']:.4f} (plain {metrics['accuracy_plain']:.4f}, "
          f"flip TTA {metrics['accuracy_flip_tta']:.4f}), {metrics['epochs_run']} epochs, best "
          f"{metrics['best_epoch']}, {fit_s:.0f} s fit -> {out}")


if __name__ == "__main__":
    main()
