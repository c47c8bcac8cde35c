"""TrainingHistoryDisplay: accuracy, loss and learning rate per epoch of a fitted FERClassifier."""

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

_CURVES = ("accuracy", "val_accuracy", "loss", "val_loss")
_REQUIRED = ("accuracy", "loss")


def _check_history(history):
    """Return the curves and learning rates of ``history`` as float arrays of one length."""
    if not hasattr(history, "keys"):
        raise TypeError(
            f"history must be a dict of per-epoch lists such as FERClassifier.history_; "
            f"got {type(history).__name__}."
        )
    missing = [key for key in _REQUIRED if key not in history]
    if missing:
        raise ValueError(
            f"history lacks the key(s) {missing}; TrainingHistoryDisplay needs per-epoch "
            f"'accuracy' and 'loss' (as every FERClassifier fit records). Found {sorted(history)}."
        )
    arrays = {
        key: np.asarray(history[key], dtype=float)
        for key in (*_CURVES, "learning_rate")
        if key in history
    }
    n_epochs = len(arrays["loss"])
    if n_epochs == 0:
        raise ValueError("history holds no epoch: its 'loss' list is empty.")
    lengths = {key: values.shape for key, values in arrays.items()}
    if any(shape != (n_epochs,) for shape in lengths.values()):
        raise ValueError(
            f"Every history entry must be a flat list with one value per epoch; got the "
            f"shapes {lengths}."
        )
    return arrays


def _step_drop_epochs(learning_rate):
    """Epochs (counted from 1) that began a step reduction of the learning rate.

    See ``TrainingHistoryDisplay``'s ``lr_drop_epochs`` for the rule: a fall
    after a held rate, not followed by a further fall.
    """
    rate = np.asarray(learning_rate, dtype=float)
    falls = np.append(rate[1:] < rate[:-1], False)  # falls[i]: epoch i + 2 fell
    held = rate[1:] == rate[:-1]  # held[i]: epoch i + 2 kept the rate of epoch i + 1
    step = falls[1:-1] & held[:-1] & ~falls[2:]  # step[i]: epoch i + 3 began a step
    return np.flatnonzero(step) + 3


def _final_estimator(estimator):
    return estimator[-1] if isinstance(estimator, Pipeline) else estimator


class TrainingHistoryDisplay:
    """Learning curves of a Keras fit: accuracy, loss and learning rate per epoch.

    Two panels, accuracy and loss, each with the training curve and, when
    the fit had validation data, the validation curve. Dotted vertical lines
    mark the epochs that began a step reduction of the learning rate (from
    ``ReduceLROnPlateau``, which FERClassifier uses with validation data, or
    a step schedule), and a star marks the epoch with the best validation
    accuracy, the one whose weights early stopping restores. When the
    history records the learning rate, a narrow third panel below the two
    shows it per epoch on a log scale, so that any schedule (warm-up,
    cosine, one-cycle) can be seen.

    Use :meth:`from_estimator` or :meth:`from_history` to create one. All
    parameters are stored as attributes.

    Parameters
    ----------
    history : dict of str to ndarray
        Per-epoch values: ``accuracy`` and ``loss``, optionally
        ``val_accuracy``, ``val_loss`` and ``learning_rate``.
    lr_drop_epochs : ndarray of int
        Epochs (counted from 1) that began a step reduction of the learning
        rate. Epoch ``e`` is one when (1) its rate is lower than that of
        epoch ``e - 1``, (2) epoch ``e - 1`` trained at exactly the rate of
        epoch ``e - 2`` and (3) epoch ``e + 1``, if any, trains at a rate no
        lower than that of epoch ``e``: the rate was held, dropped, and did
        not go on falling, as with ``ReduceLROnPlateau`` or a step schedule.
        A rate that falls every epoch, as in a cosine or one-cycle schedule,
        marks no epoch, not even the first fall after a warm-up that ends by
        holding the peak rate for an epoch. Neither of the first two epochs
        is ever marked, nor are falls in successive epochs (which
        ``ReduceLROnPlateau`` makes with ``patience=1``); the learning-rate
        panel shows those.
    best_epoch : int or None
        Epoch (counted from 1) with the highest validation accuracy, None
        without validation data.

    Attributes
    ----------
    lines_ : dict of str to matplotlib Line2D
        The curves, keyed by history key (``accuracy``, ``val_loss``, ...).
    lr_drop_lines_ : list of matplotlib Line2D
        The vertical learning-rate markers, in the accuracy and the loss
        panel.
    best_markers_ : list of matplotlib Line2D
        The best-epoch star in each panel (empty without validation data).
    learning_rate_line_ : matplotlib Line2D or None
        The learning rate per epoch, None when it is not drawn (the history
        has no ``learning_rate``, or ``ax`` held only two Axes).
    axes_ : ndarray of matplotlib Axes
        The accuracy and the loss panel, then the learning-rate panel when
        it is drawn.
    figure_ : matplotlib Figure
        The figure holding the panels.

    See Also
    --------
    skfer.FERClassifier : The classifier whose ``history_`` this displays.

    Examples
    --------
    >>> from skfer.reporting import TrainingHistoryDisplay
    >>> history = {"accuracy": [0.3, 0.5, 0.6], "loss": [1.8, 1.3, 1.1],
    ...            "val_accuracy": [0.35, 0.45, 0.44], "val_loss": [1.7, 1.4, 1.5],
    ...            "learning_rate": [1e-3, 1e-3, 5e-4]}
    >>> display = TrainingHistoryDisplay.from_history(history)
    >>> display.best_epoch, display.lr_drop_epochs.tolist()
    (2, [3])
    >>> sorted(display.lines_)
    ['accuracy', 'loss', 'val_accuracy', 'val_loss']
    >>> display.learning_rate_line_.get_ydata().tolist()
    [0.001, 0.001, 0.0005]

    A rate held on a plateau and then cut marks the epoch of the cut; a rate
    that falls every epoch, as in a cosine decay after a warm-up that holds
    its peak for an epoch, marks none:

    >>> curves = {"accuracy": [0.3] * 6, "loss": [1.2] * 6}
    >>> plateau = [1e-3, 1e-3, 1e-3, 5e-4, 5e-4, 2.5e-4]
    >>> TrainingHistoryDisplay.from_history(
    ...     {**curves, "learning_rate": plateau}).lr_drop_epochs.tolist()
    [4, 6]
    >>> cosine = [1e-3, 2e-3, 2e-3, 1.9e-3, 1.65e-3, 1.3e-3]
    >>> TrainingHistoryDisplay.from_history(
    ...     {**curves, "learning_rate": cosine}).lr_drop_epochs.tolist()
    []
    """

    def __init__(self, history, *, lr_drop_epochs, best_epoch):
        self.history = history
        self.lr_drop_epochs = lr_drop_epochs
        self.best_epoch = best_epoch

    @classmethod
    def from_history(cls, history, *, ax=None, title=None):
        """Plot the learning curves recorded in a Keras history dict.

        Parameters
        ----------
        history : dict of str to list
            Per-epoch metrics, as in ``FERClassifier.history_`` or
            ``keras.callbacks.History.history``: ``accuracy`` and ``loss``,
            optionally ``val_accuracy``, ``val_loss`` and ``learning_rate``.
        ax : sequence of two or three matplotlib Axes, default=None
            The accuracy, the loss and optionally the learning-rate panel, as
            in :meth:`plot`. If None, a new figure is created.
        title : str, default=None
            Figure title.

        Returns
        -------
        display : TrainingHistoryDisplay
            The display, plotted.

        Raises
        ------
        ValueError
            If ``accuracy`` or ``loss`` is missing, the history is empty or
            its lists differ in length, or if ``ax`` holds neither two nor
            three Axes, or three while the history has no ``learning_rate``.
        """
        arrays = _check_history(history)
        learning_rate = arrays.get("learning_rate")
        lr_drop_epochs = (
            _step_drop_epochs(learning_rate)
            if learning_rate is not None
            else np.array([], dtype=int)
        )
        best_epoch = (
            int(np.argmax(arrays["val_accuracy"])) + 1 if "val_accuracy" in arrays else None
        )
        display = cls(arrays, lr_drop_epochs=lr_drop_epochs, best_epoch=best_epoch)
        return display.plot(ax=ax, title=title)

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, title=None):
        """Plot the learning curves of a fitted FERClassifier or pipeline.

        Parameters
        ----------
        estimator : FERClassifier or Pipeline ending in one
            A fitted Keras classifier with a ``history_`` attribute.
        ax : sequence of two or three matplotlib Axes, default=None
            The accuracy, the loss and optionally the learning-rate panel, as
            in :meth:`plot`. If None, a new figure is created.
        title : str, default=None
            Figure title.

        Returns
        -------
        display : TrainingHistoryDisplay
            The display, plotted.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the estimator is not fitted.
        ValueError
            If the (final) estimator records no ``history_``.
        """
        final = _final_estimator(estimator)
        check_is_fitted(final)
        history = getattr(final, "history_", None)
        if history is None:
            raise ValueError(
                f"{type(final).__name__} has no history_; TrainingHistoryDisplay needs a "
                "Keras classifier such as FERClassifier (or a pipeline ending in one)."
            )
        return cls.from_history(history, ax=ax, title=title)

    def plot(self, ax=None, *, title=None):
        """Draw the accuracy and loss panels, and the learning rate.

        Parameters
        ----------
        ax : sequence of two or three matplotlib Axes, default=None
            The accuracy and the loss panel, and optionally a third for the
            learning rate (the history must then record ``learning_rate``).
            If None, a new figure is created: the accuracy and the loss
            panel side by side and, when the history records
            ``learning_rate``, a narrow learning-rate panel below them.
        title : str, default=None
            Figure title.

        Returns
        -------
        display : TrainingHistoryDisplay
            The display, with ``figure_``, ``axes_`` and the line artists.

        Raises
        ------
        ValueError
            If ``ax`` holds neither two nor three Axes, or three while the
            history has no ``learning_rate``.
        """
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator, NullFormatter

        has_rate = "learning_rate" in self.history
        if ax is None:
            if has_rate:
                figure, panels = plt.subplot_mosaic(
                    [["accuracy", "loss"], ["learning_rate", "learning_rate"]],
                    figsize=(11, 5.5),
                    height_ratios=(3, 1),
                    layout="constrained",
                )
                axes = np.array(
                    [panels[key] for key in ("accuracy", "loss", "learning_rate")], dtype=object
                )
            else:
                figure, axes = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
        else:
            axes = np.asarray(ax, dtype=object).ravel()
            if axes.shape[0] not in (2, 3):
                raise ValueError(
                    f"ax must hold two Axes (accuracy, loss) or three (accuracy, loss, "
                    f"learning rate); got {axes.shape[0]} of them."
                )
            if axes.shape[0] == 3 and not has_rate:
                raise ValueError(
                    "ax holds a third Axes for the learning rate, but the history records "
                    f"no 'learning_rate'; it has {sorted(self.history)}."
                )
            figure = axes[0].figure
        epochs = np.arange(1, len(self.history["loss"]) + 1)
        self.lines_, self.lr_drop_lines_, self.best_markers_ = {}, [], []
        for panel, metric in zip(axes[:2], _REQUIRED):
            for key, label in ((metric, "train"), (f"val_{metric}", "validation")):
                if key in self.history:
                    (self.lines_[key],) = panel.plot(epochs, self.history[key], label=label)
            for i, epoch in enumerate(self.lr_drop_epochs):
                self.lr_drop_lines_.append(
                    panel.axvline(
                        epoch,
                        color="gray",
                        linestyle=":",
                        label="learning rate reduced" if i == 0 else "_nolegend_",
                    )
                )
            if self.best_epoch is not None and f"val_{metric}" in self.history:
                (marker,) = panel.plot(
                    self.best_epoch,
                    self.history[f"val_{metric}"][self.best_epoch - 1],
                    marker="*",
                    markersize=14,
                    linestyle="none",
                    color="crimson",
                    clip_on=False,
                    label=f"best val. accuracy (epoch {self.best_epoch})",
                )
                self.best_markers_.append(marker)
            panel.set(xlabel="Epoch", ylabel=metric.capitalize(), title=metric.capitalize())
            panel.xaxis.set_major_locator(MaxNLocator(integer=True))
            panel.grid(alpha=0.3)
            panel.legend(fontsize="small")
        self.learning_rate_line_ = None
        if axes.shape[0] == 3:
            rate_panel = axes[2]
            (self.learning_rate_line_,) = rate_panel.plot(
                epochs,
                self.history["learning_rate"],
                color="gray",
                marker=".",
                label="learning rate",
            )
            rate_panel.set(xlabel="Epoch", ylabel="Learning rate", yscale="log")
            rate_panel.xaxis.set_major_locator(MaxNLocator(integer=True))
            # Label the highest and lowest rate: within a decade a log axis
            # would label every minor tick, or none.
            rates = [r for r in self.history["learning_rate"] if r > 0]
            if rates:
                ticks = sorted({min(rates), max(rates)})
                rate_panel.set_yticks(ticks, labels=[f"{t:.1e}" for t in ticks])
            rate_panel.yaxis.set_minor_formatter(NullFormatter())
            rate_panel.grid(alpha=0.3, which="both")
        if title is not None:
            figure.suptitle(title)
        self.axes_, self.figure_ = axes, figure
        return self
