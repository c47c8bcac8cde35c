"""The training recipe's callbacks: early stopping, learning-rate schedules, epoch timing."""

import math
import time

import keras

#: Learning-rate schedules FERClassifier knows by name (None keeps the rate constant).
SCHEDULES = ("plateau", "cosine", "onecycle")


class EpochSchedule(keras.callbacks.Callback):
    """Set the learning rate at the start of every epoch from a named schedule.

    The rate is a function of the epoch number only, so a fit resumed from a
    checkpoint at epoch ``k`` continues the schedule where it stopped.

    Parameters
    ----------
    kind : {"cosine", "onecycle"}
        ``"cosine"``: linear warm-up over ``warmup_epochs`` epochs to
        ``learning_rate``, then half a cosine down towards 0 at ``epochs``.
        ``"onecycle"``: a linear rise from ``learning_rate / 25`` to
        ``learning_rate`` over the first 30% of the epochs, then half a
        cosine down to ``learning_rate / 1e4`` (Smith's one-cycle policy).
    learning_rate : float
        Peak learning rate.
    epochs : int
        Length of the whole schedule, in epochs.
    warmup_epochs : int, default=0
        Warm-up epochs of the cosine schedule.

    Examples
    --------
    >>> from skfer.estimator._callbacks import EpochSchedule
    >>> schedule = EpochSchedule("cosine", 0.1, epochs=10, warmup_epochs=2)
    >>> [round(schedule.rate(epoch), 4) for epoch in (0, 1, 2, 9)]
    [0.05, 0.1, 0.1, 0.0038]
    """

    def __init__(self, kind, learning_rate, epochs, warmup_epochs=0):
        super().__init__()
        self.kind = kind
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.warmup_epochs = warmup_epochs

    def rate(self, epoch):
        """Learning rate of ``epoch`` (counted from 0)."""
        peak = self.learning_rate
        if self.kind == "onecycle":
            rise = max(1, round(0.3 * self.epochs))
            if epoch < rise:
                return peak / 25 + (peak - peak / 25) * epoch / rise
            low, t = peak / 1e4, (epoch - rise) / max(1, self.epochs - rise)
            return low + (peak - low) * 0.5 * (1 + math.cos(math.pi * t))
        if epoch < self.warmup_epochs:
            return peak * (epoch + 1) / self.warmup_epochs
        t = (epoch - self.warmup_epochs) / max(1, self.epochs - self.warmup_epochs)
        return peak * 0.5 * (1 + math.cos(math.pi * t))

    def on_epoch_begin(self, epoch, logs=None):
        self.model.optimizer.learning_rate.assign(self.rate(epoch))

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(
                keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)
            )


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


def monitored_metric(metrics):
    """The validation metric the recipe watches, and whether larger is better.

    Validation accuracy when ``metrics`` records accuracy, validation loss
    otherwise.

    Examples
    --------
    >>> from skfer.estimator._callbacks import monitored_metric
    >>> monitored_metric("accuracy"), monitored_metric(["mse"])
    (('val_accuracy', 'max'), ('val_loss', 'min'))
    """
    names = [metrics] if isinstance(metrics, str) else list(metrics or ())
    if "accuracy" in names or "acc" in names:
        return "val_accuracy", "max"
    return "val_loss", "min"


def recipe_callbacks(estimator, has_validation):
    """Fresh instances of the callbacks ``estimator``'s parameters ask for, made for each fit.

    An :class:`EpochTimer` always records each epoch's seconds; the epoch
    schedules (``"cosine"``, ``"onecycle"``) act in every fit; early
    stopping and the plateau schedule need validation data.

    Examples
    --------
    >>> from skfer import FERClassifier
    >>> from skfer.estimator._callbacks import recipe_callbacks
    >>> [type(c).__name__ for c in recipe_callbacks(FERClassifier(), has_validation=True)]
    ['EpochTimer', 'EarlyStopping', 'ReduceLROnPlateau']
    >>> [type(c).__name__ for c in recipe_callbacks(FERClassifier(lr_schedule="cosine"), False)]
    ['EpochTimer', 'EpochSchedule']
    """
    callbacks = [EpochTimer()]
    monitor, mode = monitored_metric(estimator.metrics)
    if has_validation and estimator.early_stopping:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor=monitor, mode=mode, patience=estimator.patience, restore_best_weights=True
            )
        )
    if estimator.lr_schedule == "plateau" and has_validation:
        callbacks.append(
            keras.callbacks.ReduceLROnPlateau(
                monitor=monitor,
                mode=mode,
                factor=estimator.lr_factor,
                patience=estimator.lr_patience,
                min_lr=estimator.min_lr,
            )
        )
    elif estimator.lr_schedule in ("cosine", "onecycle"):
        callbacks.append(
            EpochSchedule(
                estimator.lr_schedule,
                estimator.learning_rate,
                estimator.epochs,
                warmup_epochs=estimator.warmup_epochs,
            )
        )
    return callbacks
