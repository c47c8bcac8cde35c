"""Rank training levers cheaply: fine-tune the default shipped model with each, score PublicTest and its shifts.

A lever of the recipe (photometric and scale augmentation, class-balanced
loss) would take a full training run (hours on a CPU) to measure from
scratch. This ranks them with a short run each instead: every lever
fine-tunes ``load_pretrained()``'s network for ``--epochs`` epochs on FER2013
Training, starting from the same weights with the same seed, schedule and
learning rate, so that the ``control`` run (no lever) separates the lever's
effect from that of more training. Each fitted model is then scored through
its default prediction path (the int8 engine the fit makes) on PublicTest
(validation) and on every shift of ``benchmarks/robustness.py`` (seen and unseen), with
per-class recall. Nothing is selected on PublicTest here; a lever that
helps goes into a recipe and is trained in full.

The levers:

* ``control``: the default recipe's training parameters, nothing added;
* ``robust``: ``augmentation__photometric=1.0`` (brightness, contrast, blur
  and noise at the robustness shifts' strength), ``augmentation__zoom=0.2``
  and ``augmentation__rotation=15``;
* ``balanced``: ``class_weight="balanced"`` (each class weighs in the loss
  inversely to its count; the part 4 lever for Disgust and Fear);
* ``ema``: the optimizer keeps an exponential moving average of the weights
  (``optimizer__use_ema=True``, momentum 0.99, about the last hundred
  steps), which Keras writes into the network when the fit ends;
* ``distill``: knowledge distillation (``fit(..., teacher_proba=P)``, half of
  each target from the teacher, ``distillation=0.5``) from the soft vote of
  the shipped models of ``TEACHER`` with flips, computed once on the clean
  Training faces while the network trains on their augmented views;
* ``distill_unsmoothed``: ``distill`` without label smoothing (the teacher's
  soft rows already spread the targets; the 25-epoch ``robust_distill``,
  with both, was underconfident: mean confidence 62.5% at 66.43% accuracy);
* ``robust_distill``: ``robust`` and ``distill`` together: the shifts
  trained in while the teacher's clean-view predictions anchor the clean
  behaviour.

The teacher's own PublicTest accuracy (through the int8 path, with flips)
is reported beside the levers.

Runs are checkpointed under ``--runs`` (resumed when the script is run
again; a finished one is scored again at once), and each fitted pipeline is
saved there with joblib (``LEVER/pipeline.joblib``), so that
``benchmarks/robustness.py --pipeline`` scores it with calibration under
every shift. Results: ``--output`` (JSON) and the same name with ``.md``, with
the CPU model and flags, and the process's peak resident memory (a fit on
every Training face).

Examples
--------
::

    python benchmarks/fine_tune_levers.py --epochs 3
    python benchmarks/fine_tune_levers.py --quick --output /tmp/levers.json
"""

import argparse
import datetime
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import joblib  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import recall_score  # noqa: E402

from skfer import EMOTIONS, expected_calibration_error, load_fer2013, load_pretrained  # noqa: E402
from skfer.experiments import DEFAULT_RECIPE, machine, peak_memory_mb, versions  # noqa: E402
from skfer.preprocessing import to_pixel_array  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "fer2013"
#: Lever name -> FERClassifier parameters added to the default recipe's.
LEVERS = {
    "control": {},
    "robust": {"augmentation__photometric": 1.0, "augmentation__zoom": 0.2, "augmentation__rotation": 15.0},
    "balanced": {"class_weight": "balanced"},
    "ema": {"optimizer__use_ema": True, "optimizer__ema_momentum": 0.99},
    "distill": {"distillation": 0.5},
    "distill_unsmoothed": {"distillation": 0.5, "label_smoothing": 0.0},
    "robust_distill": {"augmentation__photometric": 1.0, "augmentation__zoom": 0.2, "augmentation__rotation": 15.0,
                       "distillation": 0.5},
}
#: Levers that fit with the teacher's probabilities.
DISTILLED = ("distill", "distill_unsmoothed", "robust_distill")
#: The teacher: the shipped models whose soft vote with flips scored best on PublicTest
#: (``ensemble_rule`` in ``benchmarks/results/tta_pretrained.json``).
TEACHER = ("crop_cosine", "crop_cosine_k3_relu", "crop_cosine_k3_relu_40ep")


def teacher_proba(X):
    """The soft vote of ``TEACHER``'s models, each with flips, on faces ``X`` (0-255): shape (n, 7)."""
    return np.mean([load_pretrained(name).set_params(ferclassifier__tta="flip").predict_proba(X)
                    for name in TEACHER], axis=0)


def fine_tune(lever, X, y, epochs, learning_rate, folder, teacher=None):
    """``load_pretrained()`` fine-tuned with ``lever`` on faces ``X`` (0-255) and labels ``y``: the pipeline.

    ``teacher``: the teacher's probabilities for ``X``, given to the fit of a distilling lever.
    """
    pipeline = load_pretrained()  # FERClassifier's training defaults are the default recipe's
    pipeline[-1].set_params(
        **LEVERS[lever], warm_start=True, epochs=epochs, learning_rate=learning_rate,
        lr_schedule="cosine", lr_schedule__warmup=0.0, early_stopping=False, random_state=0, verbose=1,
        checkpoint_dir=str(folder), resume=True,
    )
    pipeline[-1].fit(pipeline[:-1].transform(X), y, teacher_proba=teacher if lever in DISTILLED else None)
    joblib.dump(pipeline, folder / "pipeline.joblib")
    return pipeline


def score(pipeline, faces, labels, shifts):
    """Accuracy under each shift; per-class recall and calibration error (ECE) on the unshifted faces."""
    out = {"accuracy": {}}
    for name, shift in shifts.items():
        proba = pipeline.predict_proba(shift(faces).reshape(len(faces), -1))
        predicted = pipeline.classes_[proba.argmax(axis=1)]
        out["accuracy"][name] = float(np.mean(predicted == labels))
        if name == "none":
            recall = recall_score(labels, predicted, labels=np.arange(len(EMOTIONS)), average=None)
            out["recall"] = dict(zip(EMOTIONS, map(float, recall)))
            out["ece"] = float(expected_calibration_error(labels, proba, labels=pipeline.classes_))
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("SKFER_DATA", DEFAULT_DATA))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--learning-rate", type=float, default=2e-4)
    parser.add_argument("--levers", nargs="+", choices=sorted(LEVERS), default=list(LEVERS))
    parser.add_argument("--runs", type=Path, default=Path.home() / "skfer-runs" / "levers")
    parser.add_argument("--quick", action="store_true", help="test the script: 512 faces, 1 epoch")
    parser.add_argument("--output", type=Path, default=RESULTS / "fine_tune_levers.json")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from robustness import shifts, unseen_shifts

    def every_shift():  # made anew for each model: noise and occlusion draw from a fresh seeded generator
        return {**shifts(), **unseen_shifts()}

    train, test = (load_fer2013(args.data, usage=usage) for usage in ("Training", "PublicTest"))
    X, y = to_pixel_array(train.data), np.asarray(train.target)
    faces = to_pixel_array(test.data).astype(np.uint8).reshape(-1, 48, 48)
    labels = np.asarray(test.target)
    if args.quick:
        args.epochs, X, y, faces, labels = 1, X[:512], y[:512], faces[:256], labels[:256]
        args.runs = args.runs / "quick"
    results = {
        "command": "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "versions": versions("tensorflow", extra=("onnxruntime",)),
        "start": f"load_pretrained() ({DEFAULT_RECIPE})",
        "epochs": args.epochs, "learning_rate": args.learning_rate,
        "training_faces": len(y), "publictest_faces": len(labels), "unseen_shifts": list(unseen_shifts()),
        "shipped": score(load_pretrained(), faces, labels, every_shift()),
        "levers": {},
    }
    teacher = None
    if set(args.levers) & set(DISTILLED):
        teacher = teacher_proba(X)
        on_test = teacher_proba(faces.reshape(len(faces), -1))
        results["teacher"] = {"models": list(TEACHER), "tta": "flip",
                              "publictest_accuracy": float(np.mean(on_test.argmax(axis=1) == labels)),
                              "training_accuracy": float(np.mean(teacher.argmax(axis=1) == y))}
        print("teacher", json.dumps(results["teacher"]), flush=True)
    for lever in args.levers:
        pipeline = fine_tune(lever, X, y, args.epochs, args.learning_rate, args.runs / lever, teacher)
        results["levers"][lever] = {"params": LEVERS[lever], **score(pipeline, faces, labels, every_shift())}
        print(lever, json.dumps(results["levers"][lever]["accuracy"]), flush=True)
    results["peak_memory_mb"] = peak_memory_mb()  # training on all Training faces, then scoring
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    args.output.with_suffix(".md").write_text(_markdown(results))
    print(_markdown(results))
    return 0


def worst_drops(accuracy, unseen):
    """The largest drop from ``accuracy["none"]`` under the seen shifts, then under the ``unseen`` ones."""
    return [max(accuracy["none"] - accuracy[s] for s in accuracy if s != "none" and (s in unseen) == kind)
            for kind in (False, True)]


def shift_tables(rows, unseen):
    """Markdown lines: each row's accuracy under every shift, worst drops and ECE; then its recall per class.

    ``rows``: name -> :func:`score`'s result; ``unseen``: the names of the unseen shifts.
    """
    shift_names = list(next(iter(rows.values()))["accuracy"])
    lines = [
        "| model | " + " | ".join(shift_names) + " | worst drop, seen | worst drop, unseen | ECE, unshifted |",
        "|---" * (len(shift_names) + 4) + "|",
    ]
    for name, row in rows.items():
        acc = row["accuracy"]
        drops = worst_drops(acc, unseen)
        lines.append(f"| {name} | " + " | ".join(f"{100 * acc[s]:.2f}" for s in shift_names)
                     + "".join(f" | {100 * d:.2f}" for d in drops)
                     + (f" | {row['ece']:.3f} |" if "ece" in row else " | not measured |"))
    lines += ["", "Recall per class on unshifted PublicTest (%):", "",
              "| model | " + " | ".join(EMOTIONS) + " |", "|---" * (len(EMOTIONS) + 1) + "|"]
    for name, row in rows.items():
        lines.append(f"| {name} | " + " | ".join(f"{100 * row['recall'][e]:.1f}" for e in EMOTIONS) + " |")
    return lines


def _markdown(r):
    rows = {"shipped (no fine-tuning)": r["shipped"], **r["levers"]}
    unseen = r["unseen_shifts"]
    lines = [
        "# Levers ranked by fine-tuning the default model",
        "",
        f"Command: `{r['command']}`, {r['date']}. CPU: {r['machine']['cpu']} "
        f"({', '.join(r['machine']['cpu_flags'])}). Each lever fine-tunes {r['start']} for {r['epochs']} "
        f"epochs on {r['training_faces']:,} Training faces (cosine from learning rate {r['learning_rate']:g}, "
        f"seed 0); scored through the default prediction path (int8) on {r['publictest_faces']:,} PublicTest "
        "(validation) faces and their shifts (`benchmarks/robustness.py`). Peak resident memory of the "
        f"process: {r['peak_memory_mb']:,.0f} MB.",
        "",
        *([f"Teacher of the distilling levers: the soft vote of {', '.join(r['teacher']['models'])} with "
           f"flips, {100 * r['teacher']['publictest_accuracy']:.2f}% on PublicTest "
           f"({100 * r['teacher']['training_accuracy']:.2f}% on the Training faces it labels).", ""]
          if "teacher" in r else []),
        f"Unseen shifts (no lever trains with them): {', '.join(unseen)}.",
        "",
        *shift_tables(rows, unseen),
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
