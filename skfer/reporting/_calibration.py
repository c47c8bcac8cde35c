"""expected_calibration_error: how far a classifier's confidence is from its accuracy."""

from numbers import Integral

import numpy as np
from sklearn.utils import check_array
from sklearn.utils.multiclass import unique_labels

from .._labels import align_labels
from .._validation import Interval, validate_params

#: How far a row of probabilities may sum from 1 (float32 softmax sums are within 1e-6).
_SUM_TOLERANCE = 1e-3
#: The constraint on ``n_bins``, wherever it is a parameter.
N_BINS_CONSTRAINTS = {"n_bins": [Interval(Integral, 1, None, closed="left")]}


def _check_labels(y_true, n_columns, labels):
    """The class of each probability column, checked against ``y_true``."""
    if labels is None:
        labels = unique_labels(y_true)
        if len(labels) != n_columns:
            raise ValueError(
                f"y_prob has {n_columns} columns but y_true holds {len(labels)} distinct labels "
                f"{labels.tolist()}; pass labels, the class of each column (e.g. the classifier's "
                "classes_)."
            )
        return labels
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) != n_columns:
        raise ValueError(
            f"labels must name the class of each of y_prob's {n_columns} columns; got shape "
            f"{labels.shape}."
        )
    if len(set(labels.tolist())) != len(labels):
        raise ValueError(f"labels must be distinct; got {labels.tolist()}.")
    unknown = sorted({str(label) for label in y_true[~np.isin(y_true, labels)]})
    if unknown:
        raise ValueError(f"y_true holds {unknown}, which are not in labels {labels.tolist()}.")
    return labels


def _check_probabilities(y_true, y_prob, labels):
    """Return ``y_true`` (n,), ``y_prob`` (n, n_classes) and the labels of its columns, checked.

    A 1d ``y_prob`` (or one column) is the probability of the second of two
    classes, as :func:`sklearn.metrics.log_loss` takes it.
    """
    y_true = np.asarray(y_true)
    if y_true.ndim != 1:
        raise ValueError(f"y_true must be a 1d array of labels; got shape {y_true.shape}.")
    if np.ndim(y_prob) not in (1, 2):
        raise ValueError(
            f"y_prob must have shape (n_samples, n_classes) or (n_samples,); got {np.ndim(y_prob)} "
            "dimensions."
        )
    y_prob = check_array(y_prob, ensure_2d=False, dtype="numeric", input_name="y_prob").astype(float)
    if y_prob.ndim == 1 or y_prob.shape[1] == 1:
        positive = y_prob.reshape(-1)
        y_prob = np.column_stack([1.0 - positive, positive])
    if len(y_true) != len(y_prob):
        raise ValueError(f"y_true has {len(y_true)} labels but y_prob has {len(y_prob)} rows.")
    outside = np.flatnonzero((y_prob < 0).any(axis=1) | (y_prob > 1).any(axis=1))
    if outside.size:
        row = outside[0]
        raise ValueError(
            f"y_prob must hold probabilities in [0, 1]; row {row} holds {y_prob[row].tolist()}."
        )
    off = np.flatnonzero(np.abs(y_prob.sum(axis=1) - 1.0) > _SUM_TOLERANCE)
    if off.size:
        row = off[0]
        raise ValueError(
            f"Each row of y_prob must sum to 1 (class probabilities, such as predict_proba "
            f"returns); row {row} sums to {y_prob[row].sum():.6g}."
        )
    if labels is not None:  # FER2013's names and integers stand for each other, as in the classifier
        y_true = np.asarray(align_labels(y_true, np.asarray(labels)))
    return y_true, y_prob, _check_labels(y_true, y_prob.shape[1], labels)


def reliability_bins(y_true, y_prob, *, n_bins, labels):
    """Faces, accuracy and mean confidence in each equal-width bin of top-label confidence.

    The top-label confidence of a face is its largest probability; the face
    is right when that column's label is its true label. Bin ``i`` holds the
    confidences in ``(bin_edges[i], bin_edges[i + 1]]``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_prob : array-like of shape (n_samples, n_classes) or (n_samples,)
        Class probabilities; 1d: the probability of the second of two classes.
    n_bins : int
        Number of bins.
    labels : array-like of shape (n_classes,) or None
        The class of each column; None: the sorted labels of ``y_true``.

    Returns
    -------
    bin_edges : ndarray of shape (n_bins + 1,)
        From 0 to 1.
    counts : ndarray of shape (n_bins,)
        Faces in each bin.
    accuracy : ndarray of shape (n_bins,)
        Share of those faces predicted right; NaN in an empty bin.
    confidence : ndarray of shape (n_bins,)
        Their mean top-label confidence; NaN in an empty bin.

    Examples
    --------
    >>> from skfer.reporting._calibration import reliability_bins
    >>> edges, counts, accuracy, confidence = reliability_bins(
    ...     [0, 1, 1], [[0.9, 0.1], [0.8, 0.2], [0.3, 0.7]], n_bins=2, labels=None)
    >>> counts.tolist(), accuracy.tolist(), confidence.round(2).tolist()
    ([0, 3], [nan, 0.6666666666666666], [nan, 0.8])
    """
    y_true, y_prob, labels = _check_probabilities(y_true, y_prob, labels)
    confidence = y_prob.max(axis=1)
    correct = labels[y_prob.argmax(axis=1)] == y_true
    bin_edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.searchsorted(bin_edges[1:-1], confidence, side="left")
    counts = np.bincount(which, minlength=n_bins)
    filled = counts > 0
    accuracy = np.full(n_bins, np.nan)
    mean_confidence = np.full(n_bins, np.nan)
    accuracy[filled] = np.bincount(which, weights=correct, minlength=n_bins)[filled] / counts[filled]
    mean_confidence[filled] = (
        np.bincount(which, weights=confidence, minlength=n_bins)[filled] / counts[filled]
    )
    return bin_edges, counts, accuracy, mean_confidence


def ece_from_bins(counts, accuracy, confidence):
    """The bins' ``|accuracy - confidence|`` weighted by their share of faces (empty bins weigh 0)."""
    filled = counts > 0
    gaps = np.abs(accuracy[filled] - confidence[filled])
    return float(np.sum(counts[filled] * gaps) / counts.sum())


@validate_params(N_BINS_CONSTRAINTS)
def expected_calibration_error(y_true, y_prob, *, n_bins=15, labels=None):
    """Expected calibration error (ECE) of class probabilities, top-label and equal-width bins.

    Each sample's confidence is its largest probability, and the sample is
    right when that column's class is its true label. The confidences are
    put in ``n_bins`` bins of equal width between 0 and 1; the ECE is the
    bins' gaps between accuracy and mean confidence, weighted by each bin's
    share of the samples:

    .. math::

        \\mathrm{ECE} = \\sum_b \\frac{n_b}{n} \\left| \\mathrm{acc}_b - \\mathrm{conf}_b \\right|

    0 means that, bin by bin, a classifier is right as often as it is
    confident; the largest value, 1, is a classifier always sure and always
    wrong. Lower is better: with :func:`sklearn.metrics.make_scorer`, pass
    ``greater_is_better=False`` and ``response_method="predict_proba"``.
    Like every binned estimate, it depends on ``n_bins`` and is biased
    upward on few samples.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels, of any type the classifier takes (ints, strings).
    y_prob : array-like of shape (n_samples, n_classes) or (n_samples,)
        Class probabilities, one column per class, each row summing to 1
        (``predict_proba``'s output). A 1d array is the probability of the
        second of two classes, as in :func:`sklearn.metrics.log_loss` (and
        what ``make_scorer`` passes for a binary classifier).
    n_bins : int, default=15
        Number of equal-width confidence bins.
    labels : array-like of shape (n_classes,), default=None
        The class of each column of ``y_prob``, e.g. the classifier's
        ``classes_``. If None, the sorted distinct labels of ``y_true``,
        which must then be as many as the columns.

    Returns
    -------
    ece : float
        Between 0 and 1.

    Raises
    ------
    ValueError
        If ``n_bins`` is not a positive int, ``y_prob`` is not a table of
        probabilities (values outside [0, 1], rows that do not sum to 1)
        with one row per label, or ``labels`` (or the labels of ``y_true``)
        do not name its columns.

    See Also
    --------
    ReliabilityDisplay : The bins behind this figure, drawn.
    sklearn.metrics.log_loss : Another score of probabilities (calibration and sharpness).
    sklearn.calibration.CalibratedClassifierCV : Recalibrate a classifier's probabilities.

    References
    ----------
    C. Guo, G. Pleiss, Y. Sun and K. Q. Weinberger, "On Calibration of Modern
    Neural Networks", ICML 2017.

    Examples
    --------
    Two faces predicted with confidence 0.9 (one right, one wrong) and two
    with 0.6 (both right): gaps of 0.4 and 0.4, so an ECE of 0.4.

    >>> from skfer import expected_calibration_error
    >>> y_true = ["Happy", "Sad", "Sad", "Happy"]
    >>> y_prob = [[0.9, 0.1], [0.9, 0.1], [0.4, 0.6], [0.6, 0.4]]
    >>> round(expected_calibration_error(y_true, y_prob, n_bins=10), 3)
    0.4

    As a scorer (scikit-learn negates it, so that higher is better):

    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.metrics import make_scorer
    >>> X, y = make_classification(n_samples=300, n_classes=3, n_informative=4, random_state=0)
    >>> scorer = make_scorer(expected_calibration_error, response_method="predict_proba",
    ...                      greater_is_better=False)
    >>> model = LogisticRegression().fit(X, y)
    >>> -scorer(model, X, y) == expected_calibration_error(y, model.predict_proba(X))
    True
    """
    _, counts, accuracy, confidence = reliability_bins(y_true, y_prob, n_bins=n_bins, labels=labels)
    return ece_from_bins(counts, accuracy, confidence)
