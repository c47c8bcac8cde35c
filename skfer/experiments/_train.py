"""The main job: train the default pipeline on FER2013 Training, validate on PublicTest."""

import ast
import json
import time
import warnings
from pathlib import Path

import joblib
import numpy as np
from sklearn.model_selection import train_test_split

from .._files import FolderLock, write_atomically
from .._hardware import fp32_peak_gflops, native_bfloat16, peak_memory_mb
from ..datasets import load_fer2013
from ..estimator._checkpoint import read_state
from ..estimator._classifier import FERClassifier
from ..estimator._pipeline import make_fer_pipeline
from ..models import flops_per_image
from ._evaluation import save_report
from ._recipes import DEFAULT_RECIPE
from ._recipes import recipe as _recipe


def _subset(data, n, random_state):
    if n is None or n >= len(data.target):
        return data.data, data.target
    X, _, y, _ = train_test_split(
        data.data, data.target, train_size=n, stratify=data.target, random_state=random_state
    )
    return X, y


def _start_or_resume(checkpoint_dir, restart):
    """How the run begins, for its opening line: a new run, or resuming a checkpoint after epoch N."""
    state = None if restart else read_state(checkpoint_dir)
    if state is None:
        return "a new run"
    done = "a finished run" if state["finished"] else f"a run stopped after epoch {state['epoch']}"
    return (f"{checkpoint_dir} holds the checkpoint of {done}: it is resumed if this same command "
            "wrote it, else the run stops and names what differs")


def _run_dtype(checkpoint_dir, restart):
    """The run's ``train_dtype``, fixed when it started.

    A resumed run keeps the dtype its checkpoint was trained in, also on a CPU
    without native bfloat16 (it says so: bfloat16 is then emulated, and
    slower); a new run trains in bfloat16 where the CPU computes it natively,
    in float32 elsewhere.
    """
    state = None if restart else read_state(checkpoint_dir)
    if state is None:
        return "bfloat16" if native_bfloat16() else "float32"
    dtype = ast.literal_eval(state["fingerprint"]["params"]["train_dtype"])
    if dtype == "bfloat16" and not native_bfloat16():
        warnings.warn(
            f"{checkpoint_dir} holds a run that started in bfloat16; it goes on in bfloat16 (a run's "
            "dtype is fixed when it starts), which this CPU does not compute natively: its epochs "
            "are slower than on the CPU it started on.",
            UserWarning,
            stacklevel=3,
        )
    return dtype


def epoch_summary(history):
    """Epochs run, the best by validation accuracy, and the training time from ``history``.

    ``fit_seconds`` sums every epoch's time, resumed sessions included; it is
    None when some epochs were trained before epochs were timed (their
    ``epoch_seconds`` are None), and ``seconds_per_epoch`` then averages the
    timed ones.

    Parameters
    ----------
    history : dict of str to list
        Per-epoch values, as in ``FERClassifier.history_``.

    Returns
    -------
    dict
        ``epochs_run``, ``best_epoch`` (counted from 1; None without
        validation), ``fit_seconds`` and ``seconds_per_epoch``.

    Examples
    --------
    >>> from skfer.experiments._train import epoch_summary
    >>> epoch_summary({"loss": [2.0, 1.0, 0.9], "val_accuracy": [0.3, 0.5, 0.4],
    ...                "epoch_seconds": [None, 10.0, 12.0]})
    {'epochs_run': 3, 'best_epoch': 2, 'fit_seconds': None, 'seconds_per_epoch': 11.0}
    """
    epochs = len(history["loss"])
    seconds = [s for s in history.get("epoch_seconds", []) if s is not None]
    val = history.get("val_accuracy")
    return {
        "epochs_run": epochs,
        "best_epoch": int(np.argmax(val)) + 1 if val else None,
        "fit_seconds": round(sum(seconds), 1) if len(seconds) == epochs else None,
        "seconds_per_epoch": round(float(np.mean(seconds)), 2) if seconds else None,
    }


def training_throughput(classifier, n_faces):
    """Faces per second of a run's median epoch, and the share of this CPU's FP32 peak it reached.

    A training step costs about three forward passes (the forward pass,
    and the backward pass's two products per layer); the forward pass is
    :func:`skfer.models.flops_per_image`. Epoch times include the
    validation pass.

    Parameters
    ----------
    classifier : FERClassifier
        Fitted, with timed epochs in ``history_["epoch_seconds"]``.
    n_faces : int
        Training faces per epoch.

    Returns
    -------
    dict
        ``faces_per_s``, ``gflop_per_face`` (training), ``gflops``,
        ``cpu_peak`` (:func:`skfer._hardware.fp32_peak_gflops`) and
        ``share_of_peak`` (None where the peak is unknown); empty without
        timed epochs.

    Examples
    --------
    >>> import numpy as np
    >>> from skfer import FERClassifier
    >>> from skfer.experiments._train import training_throughput
    >>> X, y = np.zeros((8, 2304), np.float32), np.arange(8) % 2
    >>> clf = FERClassifier(architecture__filters=(4,), architecture__dense_units=8, dropout=0.1, epochs=1).fit(X, y)
    >>> sorted(training_throughput(clf, 8))
    ['cpu_peak', 'faces_per_s', 'gflop_per_face', 'gflops', 'share_of_peak']
    """
    seconds = [s for s in classifier.history_.get("epoch_seconds", []) if s]
    if not seconds:
        return {}
    faces_per_s = n_faces / float(np.median(seconds))
    gflop = 3 * flops_per_image(classifier.model_) / 1e9
    peak = fp32_peak_gflops()
    return {
        "faces_per_s": round(faces_per_s, 1), "gflop_per_face": round(gflop, 4),
        "gflops": round(faces_per_s * gflop, 1), "cpu_peak": peak,
        "share_of_peak": None if peak is None else round(faces_per_s * gflop / peak["gflops"], 3),
    }


def _throughput_line(throughput, memory_mb):
    """``skfer train``'s closing line: faces/s, the share of the CPU's FP32 peak and the peak memory."""
    line = f"skfer train: {throughput['faces_per_s']:.0f} faces/s (median epoch), {throughput['gflops']:.0f} GFLOP/s"
    peak = throughput["cpu_peak"]
    if peak is not None:
        line += (
            f", {throughput['share_of_peak']:.0%} of this CPU's estimated FP32 peak ({peak['gflops']:.0f} "
            f"GFLOP/s: {peak['cores']} cores x {peak['ghz']:.2f} GHz x {peak['flops_per_cycle']} FLOP/cycle)"
        )
    if memory_mb is not None:
        line += f"; peak memory {memory_mb:,.0f} MB"
    return line


def train_fer2013(
    output_dir, *, data=None, recipe=DEFAULT_RECIPE, epochs=None, subset=None, random_state=0,
    verbose=1, restart=False, report_dir=None, extra=None, **params,
):
    """Train a recipe's pipeline on FER2013 Training and report on PublicTest.

    PublicTest drives early stopping and learning-rate reduction, so its
    accuracy is validation accuracy. A checkpoint is written to
    ``output_dir/checkpoint`` after every epoch: calling this again with the
    same arguments after an interruption resumes from the last finished
    epoch. Other arguments (say, a quick ``subset`` run before the full one)
    in the same folder raise :class:`skfer.estimator._checkpoint.CheckpointMismatchError`
    naming what differs, unless ``restart`` is set.

    Parameters
    ----------
    output_dir : str or path-like
        Folder for ``pipeline.joblib`` (the fitted pipeline), ``model.keras``,
        ``metrics.json``, the report PNGs and the checkpoint.
    data : str or path-like, default=None
        FER2013 CSV or its folder, as in :func:`load_fer2013`.
    recipe : str, default=DEFAULT_RECIPE
        A named recipe of :data:`skfer.experiments._recipes.RECIPES`; ``params`` override
        its parameters.
    epochs : int, default=None
        Most epochs to train; None uses the recipe's.
    subset : int, default=None
        Train on a stratified subset of this many Training faces (and a
        quarter as many PublicTest faces) for a quick run.
    random_state : int, default=0
        Seed of the subset and of the fit.
    verbose : int, default=1
        Progress: 0 silent, 1 within every epoch (faces/s, time left), 2 a
        line per epoch.
    restart : bool, default=False
        Start a new run even if ``output_dir`` holds the checkpoint of a
        different one (which is replaced).
    report_dir : str or path-like, default=None
        Folder for ``metrics.json`` and the report PNGs, if not ``output_dir``.
    extra : dict, default=None
        More entries for ``metrics.json``.
    **params
        More :class:`FERClassifier` parameters. Without ``train_dtype``,
        a new run trains in bfloat16 (mixed precision) on CPUs that compute it
        natively (AVX512-BF16 or AMX, no GPU), in float32 elsewhere; a resumed
        run keeps the dtype it started in, and says so where this CPU lacks
        native bfloat16.

    Returns
    -------
    FERPipeline
        The fitted pipeline (also saved as ``pipeline.joblib``).

    Raises
    ------
    skfer._files.FolderInUseError
        When another live run holds ``output_dir``.
    skfer.estimator._checkpoint.CheckpointDamagedError
        When the checkpoint to resume is cut short or unreadable.

    Examples
    --------
    >>> from skfer.experiments._train import train_fer2013
    >>> pipe = train_fer2013("skfer-output", epochs=2, subset=500)  # doctest: +SKIP
    """
    output_dir = Path(output_dir)
    # The data first: a missing file stops the run before the output folder exists.
    train, val = load_fer2013(data, usage="Training"), load_fer2013(data, usage="PublicTest")
    with FolderLock(output_dir):  # a second run on the folder is refused while this one lives
        return _train_held(
            output_dir, train=train, val=val, recipe=recipe, epochs=epochs, subset=subset,
            random_state=random_state, verbose=verbose, restart=restart, report_dir=report_dir,
            extra=extra, **params,
        )


def _train_held(output_dir, *, train, val, recipe, epochs, subset, random_state, verbose, restart,
                report_dir, extra, **params):
    X, y = _subset(train, subset, random_state)
    X_val, y_val = _subset(val, None if subset is None else max(subset // 4, 50), random_state)
    recipe_params, recipe_epochs = _recipe(recipe)
    epochs = recipe_epochs if epochs is None else epochs
    if "train_dtype" not in {**recipe_params, **params}:
        params["train_dtype"] = _run_dtype(output_dir / "checkpoint", restart)
    classifier = FERClassifier(
        **{**recipe_params, **params},
        epochs=epochs,
        random_state=random_state,
        verbose=verbose,
        checkpoint_dir=str(output_dir / "checkpoint"),
        resume=not restart,
    )
    pipe = make_fer_pipeline(classifier)
    if verbose:
        print(f"skfer train: recipe {recipe}, {epochs} epochs, {len(y):,} Training faces from "
              f"{train.filename}, validated on {len(y_val):,} PublicTest faces; output in {output_dir}; "
              f"{_start_or_resume(output_dir / 'checkpoint', restart)}")
    start = time.perf_counter()
    pipe.fit(X, y, validation_data=(X_val, y_val))
    seconds = time.perf_counter() - start
    throughput = training_throughput(pipe[-1], len(y))
    memory_mb = peak_memory_mb()
    if verbose and throughput:
        print(_throughput_line(throughput, memory_mb))
    write_atomically(output_dir / "pipeline.joblib", lambda path: joblib.dump(pipe, path))
    write_atomically(output_dir / "model.keras", pipe[-1].model_.save)
    save_report(
        pipe,
        X_val,
        y_val,
        output_dir if report_dir is None else report_dir,
        split="PublicTest",
        extra={
            "recipe": recipe,
            "train_split": "Training",
            "train_rows": int(len(y)),
            **epoch_summary(pipe[-1].history_),
            "training_throughput": throughput,
            "peak_memory_mb": memory_mb,
            "fit_seconds_this_call": round(seconds, 1),
            "random_state": random_state,
            "classifier_params": json.loads(json.dumps(
                {k: v for k, v in classifier.get_params().items() if k != "callbacks"}, default=repr
            )),
            **(extra or {}),
        },
    )
    return pipe
