"""MulticlassROCDisplay: one-vs-rest ROC curves with micro and macro averages."""

import numpy as np
from sklearn.metrics import auc, roc_curve
from sklearn.preprocessing import label_binarize
from sklearn.utils import check_array, check_consistent_length, column_or_1d
from sklearn.utils.multiclass import unique_labels
from sklearn.utils.validation import check_is_fitted

_AVERAGES = ("micro", "macro")


def _check_labels(y_true, y_score, labels, display_labels):
    """Return the classes in column order and their names, checked against the data."""
    labels = unique_labels(y_true) if labels is None else np.asarray(labels)
    if len(labels) < 2:
        raise ValueError(f"ROC curves need at least two classes; got {labels.tolist()}.")
    if y_score.shape[1] != len(labels):
        raise ValueError(
            f"y_score has {y_score.shape[1]} columns but there are {len(labels)} classes "
            f"{labels.tolist()}; pass labels naming the class of each column."
        )
    unknown = np.setdiff1d(y_true, labels)
    if unknown.size:
        raise ValueError(
            f"y_true holds {unknown.tolist()}, which are not in labels {labels.tolist()}."
        )
    names = labels if display_labels is None else np.asarray(display_labels)
    if len(names) != len(labels):
        raise ValueError(
            f"display_labels has {len(names)} names for {len(labels)} classes {labels.tolist()}."
        )
    names = [str(name) for name in names]
    reserved = sorted(set(names) & set(_AVERAGES))
    if reserved or len(set(names)) != len(names):
        raise ValueError(
            f"Class names must be distinct and differ from {list(_AVERAGES)}; got {names}."
        )
    return labels, names


def _one_vs_rest(y_true, labels, names):
    """Indicator matrix with one column per class, every class present in y_true."""
    indicator = label_binarize(y_true, classes=labels)
    if len(labels) == 2:
        indicator = np.hstack([1 - indicator, indicator])
    absent = [name for name, count in zip(names, indicator.sum(axis=0)) if count == 0]
    if absent:
        raise ValueError(
            f"y_true has no sample of class(es) {absent}, so their ROC curves are undefined."
        )
    return indicator


class MulticlassROCDisplay:
    """One-vs-rest ROC curves of a multiclass classifier, with their averages.

    One curve per class, built from that class's probability column against
    all other classes, plus the micro-average curve (every (sample, class)
    pair pooled) and the macro-average curve (the class curves' true
    positive rates averaged on a common false positive rate grid). Each
    legend entry shows the area under its curve.

    Use :meth:`from_estimator` or :meth:`from_predictions` to create one.
    All parameters are stored as attributes.

    Parameters
    ----------
    fpr : dict of str to ndarray
        False positive rates, keyed by class name, ``"micro"`` and ``"macro"``.
    tpr : dict of str to ndarray
        True positive rates, with the keys of ``fpr``.
    roc_auc : dict of str to float
        Area under each curve, with the keys of ``fpr``. ``roc_auc["micro"]``
        equals ``roc_auc_score(..., average="micro")`` on the one-vs-rest
        indicator matrix; ``roc_auc["macro"]`` is the area under the drawn
        macro curve, close to the mean of the class AUCs.

    Attributes
    ----------
    lines_ : dict of str to matplotlib Line2D
        The curves, with the keys of ``fpr``.
    chance_level_ : matplotlib Line2D or None
        The diagonal of a random classifier, None if not plotted.
    ax_ : matplotlib Axes
        Axes with the curves.
    figure_ : matplotlib Figure
        Figure holding the axes.

    See Also
    --------
    sklearn.metrics.RocCurveDisplay : ROC curve of a binary classifier.
    sklearn.metrics.roc_auc_score : Area under the ROC curve, multiclass included.

    Examples
    --------
    >>> import numpy as np
    >>> from skfer.reporting import MulticlassROCDisplay
    >>> y_true = ["Happy", "Sad", "Angry", "Happy", "Sad", "Angry"]
    >>> y_score = np.array([[0.1, 0.8, 0.1], [0.2, 0.2, 0.6], [0.7, 0.2, 0.1],
    ...                     [0.3, 0.6, 0.1], [0.1, 0.3, 0.6], [0.2, 0.3, 0.5]])
    >>> display = MulticlassROCDisplay.from_predictions(y_true, y_score)
    >>> {name: round(area, 2) for name, area in display.roc_auc.items()}
    {'Angry': 0.81, 'Happy': 1.0, 'Sad': 1.0, 'micro': 0.92, 'macro': 0.94}
    """

    def __init__(self, *, fpr, tpr, roc_auc):
        self.fpr = fpr
        self.tpr = tpr
        self.roc_auc = roc_auc

    @classmethod
    def from_predictions(
        cls, y_true, y_score, *, labels=None, display_labels=None, ax=None, plot_chance_level=True
    ):
        """Plot one-vs-rest ROC curves from true labels and class probabilities.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
            True labels.
        y_score : array-like of shape (n_samples, n_classes)
            Probability (or score) of each class, one column per class, e.g.
            the output of ``predict_proba``.
        labels : array-like of shape (n_classes,), default=None
            The class of each column of ``y_score``, e.g. the classifier's
            ``classes_``. If None, the sorted distinct labels of ``y_true``.
        display_labels : array-like of shape (n_classes,), default=None
            Names shown in the legend and used as keys, e.g. emotion names
            for integer labels. If None, the labels themselves.
        ax : matplotlib Axes, default=None
            Axes to plot on. If None, a new figure and axes are created.
        plot_chance_level : bool, default=True
            Whether to draw the diagonal of a random classifier.

        Returns
        -------
        display : MulticlassROCDisplay
            The display, plotted.

        Raises
        ------
        ValueError
            If ``y_score`` does not have one column per class, ``y_true``
            holds a label not in ``labels``, or a class has no sample in
            ``y_true``.
        """
        y_true = column_or_1d(y_true)
        y_score = check_array(y_score, input_name="y_score")
        check_consistent_length(y_true, y_score)
        labels, names = _check_labels(y_true, y_score, labels, display_labels)
        indicator = _one_vs_rest(y_true, labels, names)
        fpr, tpr = {}, {}
        for k, name in enumerate(names):
            fpr[name], tpr[name], _ = roc_curve(indicator[:, k], y_score[:, k])
        fpr["micro"], tpr["micro"], _ = roc_curve(indicator.ravel(), y_score.ravel())
        grid = np.unique(np.concatenate([fpr[name] for name in names]))
        fpr["macro"] = grid
        tpr["macro"] = np.mean([np.interp(grid, fpr[name], tpr[name]) for name in names], axis=0)
        roc_auc = {key: float(auc(fpr[key], tpr[key])) for key in fpr}
        display = cls(fpr=fpr, tpr=tpr, roc_auc=roc_auc)
        return display.plot(ax=ax, plot_chance_level=plot_chance_level)

    @classmethod
    def from_estimator(
        cls, estimator, X, y, *, display_labels=None, ax=None, plot_chance_level=True
    ):
        """Plot one-vs-rest ROC curves of a fitted classifier on ``X``, ``y``.

        Parameters
        ----------
        estimator : classifier or Pipeline ending in one
            Fitted, with ``predict_proba`` and ``classes_``.
        X : array-like
            Input to ``estimator.predict_proba``.
        y : array-like of shape (n_samples,)
            True labels.
        display_labels : array-like of shape (n_classes,), default=None
            Names of ``estimator.classes_`` for the legend and keys. If
            None, the classes themselves.
        ax : matplotlib Axes, default=None
            Axes to plot on. If None, a new figure and axes are created.
        plot_chance_level : bool, default=True
            Whether to draw the diagonal of a random classifier.

        Returns
        -------
        display : MulticlassROCDisplay
            The display, plotted.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the estimator is not fitted.
        TypeError
            If the estimator has no ``predict_proba``.
        """
        if not hasattr(estimator, "predict_proba"):
            raise TypeError(
                f"MulticlassROCDisplay.from_estimator needs a classifier with predict_proba; "
                f"{type(estimator).__name__} has none."
            )
        check_is_fitted(estimator)
        return cls.from_predictions(
            y,
            estimator.predict_proba(X),
            labels=estimator.classes_,
            display_labels=display_labels,
            ax=ax,
            plot_chance_level=plot_chance_level,
        )

    def plot(self, ax=None, *, plot_chance_level=True):
        """Draw the class curves, the averages and (optionally) the chance level.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to plot on. If None, a new figure and axes are created.
        plot_chance_level : bool, default=True
            Whether to draw the diagonal of a random classifier.

        Returns
        -------
        display : MulticlassROCDisplay
            The display, with ``lines_``, ``chance_level_``, ``ax_`` and
            ``figure_``.
        """
        import matplotlib.pyplot as plt

        if ax is None:
            figure, ax = plt.subplots(figsize=(6.5, 6), layout="constrained")
        else:
            figure = ax.figure
        styles = {
            "micro": {"color": "black", "linestyle": ":", "linewidth": 2.5},
            "macro": {"color": "dimgray", "linestyle": "--", "linewidth": 2.5},
        }
        self.lines_ = {}
        for key in self.fpr:
            label = f"{key}-average" if key in styles else key
            (self.lines_[key],) = ax.plot(
                self.fpr[key],
                self.tpr[key],
                label=f"{label} (AUC = {self.roc_auc[key]:.2f})",
                **styles.get(key, {"linewidth": 1.5}),
            )
        self.chance_level_ = None
        if plot_chance_level:
            (self.chance_level_,) = ax.plot(
                [0, 1], [0, 1], color="lightgray", linestyle="--", label="chance (AUC = 0.50)"
            )
        ax.set(
            xlabel="False positive rate",
            ylabel="True positive rate",
            title="One-vs-rest ROC curves",
            xlim=(-0.01, 1.01),
            ylim=(-0.01, 1.01),
            aspect="equal",
        )
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize="small")
        self.ax_, self.figure_ = ax, figure
        return self
