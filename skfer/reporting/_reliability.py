"""ReliabilityDisplay: a classifier's accuracy against its confidence, bin by bin, with the faces per bin."""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._validation import check_params
from ._calibration import N_BINS_CONSTRAINTS, ece_from_bins, reliability_bins

#: Legend label of the diagonal, drawn once per Axes.
_PERFECT = "Perfectly calibrated"


class ReliabilityDisplay:
    """Reliability diagram of a multiclass classifier: accuracy per bin of top-label confidence.

    Each face's confidence is its largest probability. The faces are put in
    equal-width confidence bins, and each bin's accuracy is drawn against
    its mean confidence: a calibrated classifier lies on the diagonal, an
    overconfident one below it. A panel below counts the faces in each bin.
    The legend gives the expected calibration error
    (:func:`~skfer.reporting.expected_calibration_error`), the bins' gaps
    weighted by their counts.

    Use :meth:`from_estimator` or :meth:`from_predictions` to create one;
    :meth:`plot` with the ``axes_`` of another display draws a second
    classifier or a second set of faces on the same panels. All parameters
    are stored as attributes.

    Parameters
    ----------
    bin_edges : ndarray of shape (n_bins + 1,)
        Edges of the confidence bins, from 0 to 1.
    counts : ndarray of shape (n_bins,)
        Faces in each bin.
    accuracy : ndarray of shape (n_bins,)
        Share of each bin's faces predicted right; NaN in an empty bin.
    confidence : ndarray of shape (n_bins,)
        Mean confidence of each bin's faces; NaN in an empty bin.
    ece : float
        Expected calibration error.
    name : str, default=None
        Name of the classifier or of the faces, for the legend.

    Attributes
    ----------
    line_ : matplotlib Line2D
        Accuracy against confidence.
    bars_ : matplotlib StepPatch
        The faces per bin.
    ax_ : matplotlib Axes
        Panel with the diagram.
    ax_counts_ : matplotlib Axes
        Panel with the faces per bin.
    axes_ : tuple of two matplotlib Axes
        ``(ax_, ax_counts_)``, to pass as ``ax`` to another display's plot.
    figure_ : matplotlib Figure
        Figure holding the panels.

    See Also
    --------
    expected_calibration_error : The figure in the legend.
    sklearn.calibration.CalibrationDisplay : The curve of one class of a binary classifier.

    Examples
    --------
    >>> import numpy as np
    >>> from skfer import ReliabilityDisplay
    >>> y_true = ["Happy", "Sad", "Sad", "Happy"]
    >>> y_prob = np.array([[0.9, 0.1], [0.9, 0.1], [0.4, 0.6], [0.6, 0.4]])
    >>> display = ReliabilityDisplay.from_predictions(y_true, y_prob, n_bins=5, name="toy")
    >>> display.counts.tolist(), round(display.ece, 2)
    ([0, 0, 2, 0, 2], 0.4)
    >>> display.accuracy[display.counts > 0].tolist()
    [1.0, 0.5]
    """

    def __init__(self, *, bin_edges, counts, accuracy, confidence, ece, name=None):
        self.bin_edges = bin_edges
        self.counts = counts
        self.accuracy = accuracy
        self.confidence = confidence
        self.ece = ece
        self.name = name

    @classmethod
    def from_predictions(
        cls, y_true, y_prob, *, n_bins=15, labels=None, name=None, ref_line=True, ax=None, **kwargs
    ):
        """Plot the reliability diagram of true labels and class probabilities.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
            True labels.
        y_prob : array-like of shape (n_samples, n_classes) or (n_samples,)
            Class probabilities, each row summing to 1 (``predict_proba``'s
            output); 1d: the probability of the second of two classes.
        n_bins : int, default=15
            Number of equal-width confidence bins.
        labels : array-like of shape (n_classes,), default=None
            The class of each column of ``y_prob``, e.g. the classifier's
            ``classes_``. If None, the sorted distinct labels of ``y_true``.
        name : str, default=None
            Name for the legend.
        ref_line : bool, default=True
            Whether to draw the diagonal of a calibrated classifier.
        ax : pair of matplotlib Axes, default=None
            The diagram's panel and the counts' panel, such as another
            display's ``axes_``. If None, a new figure is created.
        **kwargs : dict
            Passed to matplotlib's ``plot`` for the line.

        Returns
        -------
        display : ReliabilityDisplay
            The display, plotted.

        Raises
        ------
        ValueError
            If ``n_bins`` is not a positive int, ``y_prob`` does not hold
            probabilities with one row per label, or ``labels`` (or the
            labels of ``y_true``) do not name its columns.
        """
        check_params({"n_bins": n_bins}, N_BINS_CONSTRAINTS, f"{cls.__name__}.from_predictions")
        bin_edges, counts, accuracy, confidence = reliability_bins(
            y_true, y_prob, n_bins=n_bins, labels=labels
        )
        display = cls(
            bin_edges=bin_edges,
            counts=counts,
            accuracy=accuracy,
            confidence=confidence,
            ece=ece_from_bins(counts, accuracy, confidence),
            name=name,
        )
        return display.plot(ax=ax, ref_line=ref_line, **kwargs)

    @classmethod
    def from_estimator(
        cls, estimator, X, y, *, n_bins=15, labels=None, name=None, ref_line=True, ax=None, **kwargs
    ):
        """Plot the reliability diagram of a fitted classifier on ``X``, ``y``.

        Parameters
        ----------
        estimator : classifier or Pipeline ending in one
            Fitted, with ``predict_proba``.
        X : array-like
            Input to ``estimator.predict_proba`` (faces in any form the
            pipeline takes).
        y : array-like of shape (n_samples,)
            True labels.
        n_bins : int, default=15
            Number of equal-width confidence bins.
        labels : array-like of shape (n_classes,), default=None
            The class of each column of ``predict_proba``. If None, the
            estimator's ``classes_``.
        name : str, default=None
            Name for the legend. If None, the estimator's class name.
        ref_line : bool, default=True
            Whether to draw the diagonal of a calibrated classifier.
        ax : pair of matplotlib Axes, default=None
            The diagram's panel and the counts' panel, such as another
            display's ``axes_``. If None, a new figure is created.
        **kwargs : dict
            Passed to matplotlib's ``plot`` for the line.

        Returns
        -------
        display : ReliabilityDisplay
            The display, plotted.

        Raises
        ------
        TypeError
            If the estimator has no ``predict_proba``.
        sklearn.exceptions.NotFittedError
            If the estimator is not fitted.
        ValueError
            If ``labels`` is None and the estimator has no ``classes_``, or
            as :meth:`from_predictions`.
        """
        if not callable(getattr(estimator, "predict_proba", None)):
            raise TypeError(
                f"{cls.__name__}.from_estimator needs a classifier with predict_proba; "
                f"{type(estimator).__name__} has none."
            )
        check_is_fitted(estimator)
        if labels is None:
            labels = getattr(estimator, "classes_", None)
            if labels is None:
                raise ValueError(
                    f"{type(estimator).__name__} has no classes_; pass labels, the class of each "
                    "column of its predict_proba."
                )
        return cls.from_predictions(
            y,
            estimator.predict_proba(X),
            n_bins=n_bins,
            labels=labels,
            name=type(estimator).__name__ if name is None else name,
            ref_line=ref_line,
            ax=ax,
            **kwargs,
        )

    def plot(self, ax=None, *, name=None, ref_line=True, **kwargs):
        """Draw accuracy against confidence, and the faces per bin below.

        Parameters
        ----------
        ax : pair of matplotlib Axes, default=None
            The diagram's panel and the counts' panel, such as another
            display's ``axes_`` (to overlay). If None, a new figure is
            created, the diagram above a narrower counts panel.
        name : str, default=None
            Name for the legend. If None, ``self.name``.
        ref_line : bool, default=True
            Whether to draw the diagonal of a calibrated classifier (once
            per panel, however many displays share it).
        **kwargs : dict
            Passed to matplotlib's ``plot`` for the line (``color``,
            ``linestyle``, ...); the counts take the line's colour.

        Returns
        -------
        display : ReliabilityDisplay
            The display, with ``line_``, ``bars_``, ``ax_``, ``ax_counts_``,
            ``axes_`` and ``figure_``.

        Raises
        ------
        ValueError
            If ``ax`` is not a pair of Axes.
        """
        import matplotlib.pyplot as plt

        if ax is None:
            figure, (ax, ax_counts) = plt.subplots(
                2, 1, sharex=True, figsize=(6, 7), height_ratios=(3, 1), layout="constrained"
            )
        else:
            axes = np.asarray(ax, dtype=object).ravel()
            if axes.shape[0] != 2:
                raise ValueError(
                    "ax must be two Axes: the diagram's panel and the counts' panel (another "
                    f"display's axes_); got {axes.shape[0]} of them."
                )
            ax, ax_counts = axes
            figure = ax.figure
        name = self.name if name is None else name
        label = f"ECE = {self.ece:.3f}" if name is None else f"{name} (ECE = {self.ece:.3f})"
        drawn = _PERFECT in ax.get_legend_handles_labels()[1]
        if ref_line and not drawn:
            ax.plot([0, 1], [0, 1], linestyle="--", color="gray", linewidth=1, label=_PERFECT)
        filled = self.counts > 0
        (self.line_,) = ax.plot(
            self.confidence[filled], self.accuracy[filled], **{"marker": "o", "label": label, **kwargs}
        )
        color = self.line_.get_color()
        self.bars_ = ax_counts.stairs(
            self.counts, self.bin_edges, fill=True, alpha=0.25, color=color, label=name
        )
        ax_counts.stairs(self.counts, self.bin_edges, color=color, linewidth=1.2)
        ax.set(xlim=(0, 1), ylim=(0, 1), ylabel="Accuracy", title="Reliability: accuracy per confidence bin")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", fontsize="small")
        ax_counts.set(xlim=(0, 1), xlabel="Confidence (largest probability)", ylabel="Faces per bin")
        ax_counts.grid(alpha=0.3)
        self.ax_, self.ax_counts_, self.figure_ = ax, ax_counts, figure
        self.axes_ = (ax, ax_counts)
        return self
