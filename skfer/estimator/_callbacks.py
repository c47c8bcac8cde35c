"""The training recipe's callbacks: early stopping, learning-rate schedules, epoch timing."""

import inspect
import math
import time

import keras

from .._progress import Progress, clock, metrics_text
from ._routing import routed

class EpochSchedule(keras.callbacks.Callback):
    """Set the learning rate at the start of every epoch from a function of the epoch.

    The rate depends on the epoch number only, so a fit resumed from a
    checkpoint at epoch ``k`` continues the schedule where it stopped.
    Subclasses define :meth:`rate`; ``learning_rate`` (the peak) and
    ``epochs`` (the schedule's length) are FERClassifier's, given when the
    fit makes the callback.

    Parameters
    ----------
    learning_rate : float
        Peak learning rate.
    epochs : int
        Length of the whole schedule, in epochs.
    """

    def __init__(self, learning_rate, epochs):
        super().__init__()
        self.learning_rate = learning_rate
        self.epochs = epochs

    def rate(self, epoch):
        """Learning rate of ``epoch`` (counted from 0)."""
        raise NotImplementedError

    def on_epoch_begin(self, epoch, logs=None):
        self.model.optimizer.learning_rate.assign(self.rate(epoch))

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate.numpy())


class CosineSchedule(EpochSchedule):
    """Linear warm-up to ``learning_rate``, then half a cosine towards 0 at ``epochs``.

    ``FERClassifier(lr_schedule="cosine")``, the default; its settings are
    routed as ``lr_schedule__warmup``.

    Parameters
    ----------
    learning_rate : float
        Peak learning rate.
    epochs : int
        Length of the schedule, in epochs.
    warmup : float, default=0.05
        Share of the epochs spent warming up, rounded to whole epochs (2 of
        40; none of a 3-epoch fit).

    Examples
    --------
    >>> from skfer.estimator._callbacks import CosineSchedule
    >>> schedule = CosineSchedule(0.1, epochs=40)
    >>> [round(schedule.rate(epoch), 4) for epoch in (0, 1, 2, 39)]
    [0.05, 0.1, 0.1, 0.0002]
    """

    def __init__(self, learning_rate, epochs, warmup=0.05):
        super().__init__(learning_rate, epochs)
        if not 0 <= warmup < 1:
            raise ValueError(f"lr_schedule__warmup must be a share of the epochs in [0, 1); got {warmup!r}.")
        self.warmup = warmup

    def rate(self, epoch):
        warmup_epochs = round(self.warmup * self.epochs)
        if epoch < warmup_epochs:
            return self.learning_rate * (epoch + 1) / warmup_epochs
        t = (epoch - warmup_epochs) / max(1, self.epochs - warmup_epochs)
        return self.learning_rate * 0.5 * (1 + math.cos(math.pi * t))


class OneCycleSchedule(EpochSchedule):
    """Smith's one-cycle policy: up from ``learning_rate / 25`` over the first 30% of the epochs, then a cosine down.

    ``FERClassifier(lr_schedule="onecycle")``; it ends at ``learning_rate / 1e4``.

    Parameters
    ----------
    learning_rate : float
        Peak learning rate.
    epochs : int
        Length of the schedule, in epochs.

    Examples
    --------
    >>> from skfer.estimator._callbacks import OneCycleSchedule
    >>> schedule = OneCycleSchedule(0.1, epochs=10)
    >>> [round(schedule.rate(epoch), 4) for epoch in (0, 3, 9)]
    [0.004, 0.1, 0.005]
    """

    def rate(self, epoch):
        peak = self.learning_rate
        rise = max(1, round(0.3 * self.epochs))
        if epoch < rise:
            return peak / 25 + (peak - peak / 25) * epoch / rise
        low, t = peak / 1e4, (epoch - rise) / max(1, self.epochs - rise)
        return low + (peak - low) * 0.5 * (1 + math.cos(math.pi * t))


#: The validation metric the plateau schedule and early stopping watch.
MONITOR = {"monitor": "val_accuracy", "mode": "max"}

#: ``lr_schedule`` names: the callback each makes (per fit) and its defaults (routed
#: ``lr_schedule__*`` parameters override them). The plateau schedule needs validation data.
LR_SCHEDULES = {
    "cosine": (CosineSchedule, {}),
    "onecycle": (OneCycleSchedule, {}),
    "plateau": (keras.callbacks.ReduceLROnPlateau, {**MONITOR, "factor": 0.5, "patience": 7, "min_lr": 1e-7}),
}

#: ``early_stopping=True``: Keras' EarlyStopping with these defaults (routed ``early_stopping__*`` override them).
EARLY_STOPPING = (keras.callbacks.EarlyStopping, {**MONITOR, "patience": 10, "restore_best_weights": True})


class EpochTimer(keras.callbacks.Callback):
    """Record each epoch's wall time, validation included, as ``epoch_seconds`` in its logs.

    The entry goes into ``history_`` (and the checkpoint) with the metrics,
    so a run resumed in another session still knows how long every epoch
    took.

    Examples
    --------
    >>> from skfer.estimator._callbacks import EpochTimer
    >>> timer, logs = EpochTimer(), {}
    >>> timer.on_epoch_begin(0)
    >>> timer.on_epoch_end(0, logs)
    >>> logs["epoch_seconds"] >= 0
    True
    """

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["epoch_seconds"] = time.perf_counter() - self._start


class TimeBudget(keras.callbacks.Callback):
    """Stop training at the end of the first epoch that ends after ``minutes`` of training.

    A class of the library (not of a script), so that a pipeline that keeps
    it among its ``callbacks`` can be pickled and loaded anywhere.

    Parameters
    ----------
    minutes : float
        The wall-clock budget of one fit.

    Attributes
    ----------
    stopped : bool
        Whether the budget ended the last fit.

    Examples
    --------
    >>> from skfer.estimator._callbacks import TimeBudget
    >>> budget = TimeBudget(minutes=90)
    >>> budget.minutes, budget.stopped
    (90, False)
    """

    def __init__(self, minutes):
        super().__init__()
        self.minutes = minutes
        self.stopped = False

    def on_train_begin(self, logs=None):
        self._start = time.perf_counter()
        self.stopped = False

    def on_epoch_end(self, epoch, logs=None):
        if time.perf_counter() - self._start > 60 * self.minutes:
            self.stopped = self.model.stop_training = True


def callback_groups(estimator):
    """The callbacks ``lr_schedule`` and ``early_stopping`` make: per prefix, the class and its settings with their defaults.

    The settings are the class's keyword parameters, less those the
    classifier gives itself (the schedules' ``learning_rate`` and
    ``epochs``), with FERClassifier's defaults; routed ``PREFIX__name``
    parameters set them. No schedule (``lr_schedule=None``, or a name the
    parameter check refuses) has no entry.

    Examples
    --------
    >>> from skfer import FERClassifier
    >>> from skfer.estimator._callbacks import callback_groups
    >>> kind, settings = callback_groups(FERClassifier(lr_schedule="plateau"))["lr_schedule"]
    >>> kind.__name__, settings["patience"], settings["monitor"]
    ('ReduceLROnPlateau', 7, 'val_accuracy')
    """
    groups = {}
    named = [("early_stopping", EARLY_STOPPING)]
    if isinstance(estimator.lr_schedule, str) and estimator.lr_schedule in LR_SCHEDULES:
        named.insert(0, ("lr_schedule", LR_SCHEDULES[estimator.lr_schedule]))
    for prefix, (kind, defaults) in named:
        own = {
            name: p.default for name, p in inspect.signature(kind).parameters.items()
            if name not in _GIVEN and p.default is not p.empty
        }
        groups[prefix] = (kind, {**own, **defaults})
    return groups


#: Arguments the classifier gives a schedule itself.
_GIVEN = ("learning_rate", "epochs")


def check_callback_settings(estimator):
    """Refuse a routed ``lr_schedule__*`` or ``early_stopping__*`` setting its callback does not take, by name.

    Examples
    --------
    >>> from skfer import FERClassifier
    >>> from skfer.estimator._callbacks import check_callback_settings
    >>> check_callback_settings(FERClassifier(early_stopping__patiense=3))
    Traceback (most recent call last):
    ...
    ValueError: early_stopping__patiense is not a setting of EarlyStopping; it takes baseline, min_delta, mode, monitor, patience, restore_best_weights, start_from_epoch, verbose.
    """
    groups = callback_groups(estimator)
    for prefix in ("lr_schedule", "early_stopping"):
        given = routed(estimator, prefix)
        if prefix not in groups:
            if given:
                raise ValueError(
                    f"{prefix}__{next(iter(given))} is set, but lr_schedule={estimator.lr_schedule!r} "
                    "has no settings."
                )
            continue
        kind, settings = groups[prefix]
        unknown = sorted(set(given) - set(settings))
        if unknown:
            raise ValueError(
                f"{prefix}__{unknown[0]} is not a setting of {kind.__name__}; it takes "
                f"{', '.join(sorted(settings))}."
            )


def needs_validation(estimator):
    """The settings of ``estimator`` that need validation data, by name (empty if none).

    Examples
    --------
    >>> from skfer import FERClassifier
    >>> from skfer.estimator._callbacks import needs_validation
    >>> needs_validation(FERClassifier()), needs_validation(FERClassifier(lr_schedule="plateau", early_stopping=True))
    ([], ['early_stopping=True', "lr_schedule='plateau'"])
    """
    names = ["early_stopping=True"] if estimator.early_stopping else []
    if estimator.lr_schedule == "plateau":
        names.append("lr_schedule='plateau'")
    return names


def recipe_callbacks(estimator, epochs):
    """Fresh instances of the callbacks ``estimator``'s parameters ask for, made for each fit.

    An :class:`EpochTimer` always records each epoch's seconds; then the
    learning-rate schedule and early stopping, each with its routed
    settings (``lr_schedule__*``, ``early_stopping__*``). ``epochs`` is the
    length of the fit's schedule.

    Examples
    --------
    >>> from skfer import FERClassifier
    >>> from skfer.estimator._callbacks import recipe_callbacks
    >>> clf = FERClassifier(lr_schedule="plateau", early_stopping=True, early_stopping__patience=4)
    >>> callbacks = recipe_callbacks(clf, epochs=40)
    >>> [type(c).__name__ for c in callbacks], callbacks[-1].patience
    (['EpochTimer', 'ReduceLROnPlateau', 'EarlyStopping'], 4)
    """
    callbacks = [EpochTimer()]
    groups = callback_groups(estimator)
    if "lr_schedule" in groups:
        kind, settings = groups["lr_schedule"]
        given = {} if kind is keras.callbacks.ReduceLROnPlateau else {
            "learning_rate": estimator.learning_rate, "epochs": epochs}
        callbacks.append(kind(**given, **{**settings, **routed(estimator, "lr_schedule")}))
    if estimator.early_stopping:
        kind, settings = groups["early_stopping"]
        callbacks.append(kind(**{**settings, **routed(estimator, "early_stopping")}))
    return callbacks


class EpochProgress(keras.callbacks.Callback):
    """Report faces done, faces per second and time left in the epoch and in the whole run.

    A Keras callback around :class:`Progress`; :class:`FERClassifier` adds it
    for ``verbose=1`` in every entry point (``fit``, ``partial_fit``,
    ``fit_dataset``, ``skfer train``). The run's time left is the epoch's
    plus the epochs still to come at the mean time of the epochs finished
    in this fit (the current epoch's projected time before the first ends);
    early stopping can end a run sooner.

    Parameters
    ----------
    n_samples : int
        Faces per epoch.
    epochs : int
        Last epoch of the fit (for "epoch 3/30").
    every_s : float, default=10.0
        Seconds between lines when the output is not a terminal.
    stream : file-like, default=None
        Where to write; ``sys.stderr`` if None.

    Examples
    --------
    >>> import io
    >>> from skfer.estimator._callbacks import EpochProgress
    >>> out = io.StringIO()
    >>> progress = EpochProgress(n_samples=100, epochs=2, stream=out)
    >>> progress.params = {"steps": 4}
    >>> progress.on_train_begin()
    >>> progress.on_epoch_begin(0)
    >>> progress.on_epoch_end(0, {"loss": 1.5, "accuracy": 0.25})
    >>> "epoch 1/2" in out.getvalue() and "accuracy 0.2500" in out.getvalue()
    True
    """

    def __init__(self, n_samples, epochs, every_s=10.0, stream=None):
        super().__init__()
        self.n_samples = n_samples
        self.epochs = epochs
        self.every_s = every_s
        self.stream = stream

    def on_train_begin(self, logs=None):
        self._progress = Progress("faces", self.every_s, self.stream)
        self._epoch_seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._progress.start(self.n_samples, label=f"epoch {epoch + 1}/{self.epochs}: ")

    def _run_left(self, epoch_left):
        per_epoch = (
            sum(self._epoch_seconds) / len(self._epoch_seconds)
            if self._epoch_seconds
            else self._progress.elapsed() + epoch_left
        )
        return epoch_left + (self.epochs - self._epoch - 1) * per_epoch

    def on_train_batch_end(self, batch, logs=None):
        steps = self.params.get("steps") or 1
        done = min(self.n_samples, round(self.n_samples * (batch + 1) / steps))
        if done >= self.n_samples:
            return  # the epoch's end line reports it, with validation
        run_left = self._run_left(self._progress.left(done))
        self._progress.update(
            done, f" in the epoch, {clock(run_left)} in the run{metrics_text(logs, ('loss', 'accuracy'))}"
        )

    def on_epoch_end(self, epoch, logs=None):
        seconds = self._progress.elapsed()
        self._epoch_seconds.append(seconds)
        shown = metrics_text({k: v for k, v in (logs or {}).items() if k != "epoch_seconds"})  # time shown already
        left = "" if epoch + 1 >= self.epochs else f", {clock(self._run_left(0.0))} left in the run"
        self._progress.write(
            f"epoch {epoch + 1}/{self.epochs}: {self.n_samples:,} faces in {clock(seconds)} "
            f"({self.n_samples / max(seconds, 1e-9):,.0f} faces/s){left}{shown}",
            final=True,
        )
