"""Bring pixel values to the range a neural network trains well on."""

import warnings

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from .._validation import Options, check_params, passes_validation
from sklearn.utils.validation import check_is_fitted, validate_data

from .._constants import PIXEL_MAX


class PixelNormalizer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Scale pixel values to [0, 1] or standardize them with a learned mean and std.

    Parameters
    ----------
    method : {"scale", "standardize"}, default="scale"
        ``"scale"`` divides by 255, as the FER2013 seed notebook did.
        ``"standardize"`` subtracts the mean and divides by the standard
        deviation of all pixels seen in ``fit`` (one scalar each, as is usual
        for images, so every pixel is treated alike).
    check_range : {"raise", "warn", "ignore"}, default="raise"
        What to do when faces do not look like the values this step expects
        (see ``input_range_``): faces given pixel values 0-255 with no value
        above 1 look already scaled to [0, 1]; faces with values above 1,
        given to a step fitted on faces within [0, 1], look unscaled. Either
        mistake would give wrong predictions, so by default they are refused
        with a ValueError naming how many faces and the first one;
        ``"warn"`` issues a UserWarning instead. All-black faces (all zeros)
        never count.

    Attributes
    ----------
    mean_ : float
        Value subtracted from every pixel (0 for ``"scale"``).
    scale_ : float
        Value every pixel is divided by after subtracting ``mean_``.
    input_range_ : {"0-255", "0-1"} or None
        The values ``transform`` expects: pixel values ``"0-255"`` for
        ``"scale"``; for ``"standardize"``, those seen in ``fit``: ``"0-1"``
        if they all lay within [0, 1] (faces already scaled), ``"0-255"`` if
        within 0-255 and some above 1, None otherwise (no check).
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, when ``X`` has string column names.

    See Also
    --------
    PixelStringTransformer : Parse FER2013 pixel strings into the array this step takes.

    Examples
    --------
    >>> import numpy as np
    >>> from skfer import PixelNormalizer
    >>> X = np.array([[0.0, 51.0, 255.0]])
    >>> PixelNormalizer().fit_transform(X)
    array([[0. , 0.2, 1. ]])
    >>> PixelNormalizer(method="standardize").fit(X).mean_
    np.float64(102.0)
    >>> PixelNormalizer(check_range="raise").fit_transform(X / 255)
    Traceback (most recent call last):
    ...
    ValueError: PixelNormalizer expects pixel values 0-255, but 1 of 1 faces in X have no value above 1 (row 0 lies in [0, 1]): they look already scaled to [0, 1]. ...
    """

    _parameter_constraints = {
        "method": [Options({"scale", "standardize"})],
        "check_range": [Options({"warn", "raise", "ignore"})],
    }

    def __init__(self, method="scale", check_range="raise"):
        self.method = method
        self.check_range = check_range

    def fit(self, X, y=None):
        """Learn the offset and scale.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Pixel values, e.g. the output of :class:`PixelStringTransformer`.
        y : None
            Ignored.

        Returns
        -------
        self : PixelNormalizer
            The fitted normalizer.
        """
        check_params(self.get_params(deep=False), self._parameter_constraints, type(self).__name__)
        X = validate_data(self, X, dtype=[np.float32, np.float64])
        if self.method == "scale":
            self.mean_, self.scale_ = np.float64(0.0), np.float64(PIXEL_MAX)
            self.input_range_ = "0-255"
        else:
            self.mean_ = np.float64(X.mean(dtype=np.float64))
            std = X.std(dtype=np.float64)
            self.scale_ = np.float64(std if std > 0 else 1.0)
            self.input_range_ = _range_of(X.min(), X.max())
        self._check_range(X)
        return self

    def transform(self, X):
        """Normalize pixel values.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Pixel values.

        Returns
        -------
        ndarray of shape (n_samples, n_features)
            ``(X - mean_) / scale_``, float32 unless ``X`` is float64.
        """
        check_is_fitted(self)
        if not passes_validation(self, X):  # e.g. PixelStringTransformer's output
            X = validate_data(self, X, dtype=[np.float32, np.float64], reset=False)
        self._check_range(X)
        return ((X - X.dtype.type(self.mean_)) / X.dtype.type(self.scale_)).astype(X.dtype, copy=False)

    def _check_range(self, X):
        """Warn or raise, as ``check_range`` says, if faces in ``X`` miss ``input_range_``."""
        if self.check_range == "ignore" or self.input_range_ is None or not X.size:
            return
        peaks = X.max(axis=1)
        if self.input_range_ == "0-255":
            odd = (peaks > 0) & (peaks <= 1)
            expected, found = "expects pixel values 0-255", "have no value above 1"
            advice = (
                "they look already scaled to [0, 1]. Pass raw pixel values, or drop the "
                "PixelNormalizer if the faces are scaled on purpose"
            )
        else:
            odd = peaks > 1
            expected, found = "was fitted on values within [0, 1]", "have values above 1"
            advice = (
                "they look like raw pixel values 0-255. Scale them as the faces seen in fit "
                "were (e.g. divide by 255), or refit on raw pixel values"
            )
        if not odd.any():
            return
        row = int(np.argmax(odd))
        message = (
            f"PixelNormalizer {expected}, but {np.count_nonzero(odd)} of {len(X)} faces in X "
            f"{found} (row {row} lies in [{X[row].min():.3g}, {peaks[row]:.3g}]): {advice} "
            "(check_range='ignore' turns this check off)."
        )
        if self.check_range == "raise":
            raise ValueError(message)
        warnings.warn(message, UserWarning, stacklevel=3)

    def inverse_transform(self, X):
        """Map normalized values back to pixel values.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Normalized values.

        Returns
        -------
        ndarray of shape (n_samples, n_features)
            ``X * scale_ + mean_``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float32, np.float64], reset=False)
        return (X * X.dtype.type(self.scale_) + X.dtype.type(self.mean_)).astype(X.dtype, copy=False)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _range_of(low, high):
    """``"0-1"`` or ``"0-255"`` for faces with values in [low, high], None if neither."""
    if low < 0 or high > PIXEL_MAX or high == 0:
        return None
    return "0-1" if high <= 1 else "0-255"
