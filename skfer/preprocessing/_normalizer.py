"""Bring pixel values to the range a neural network trains well on."""

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, _fit_context
from sklearn.utils._param_validation import StrOptions
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

    Attributes
    ----------
    mean_ : float
        Value subtracted from every pixel (0 for ``"scale"``).
    scale_ : float
        Value every pixel is divided by after subtracting ``mean_``.
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
    """

    _parameter_constraints = {"method": [StrOptions({"scale", "standardize"})]}

    def __init__(self, method="scale"):
        self.method = method

    @_fit_context(prefer_skip_nested_validation=True)
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
        X = validate_data(self, X, dtype=[np.float32, np.float64])
        if self.method == "scale":
            self.mean_, self.scale_ = np.float64(0.0), np.float64(PIXEL_MAX)
        else:
            self.mean_ = np.float64(X.mean(dtype=np.float64))
            std = X.std(dtype=np.float64)
            self.scale_ = np.float64(std if std > 0 else 1.0)
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
        X = validate_data(self, X, dtype=[np.float32, np.float64], reset=False)
        return ((X - X.dtype.type(self.mean_)) / X.dtype.type(self.scale_)).astype(X.dtype, copy=False)

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
