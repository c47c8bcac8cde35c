"""What FERClassifier accepts as faces and as parameters beyond their declared constraints."""

import os
from numbers import Integral, Real

import keras
import numpy as np
from scipy.sparse import issparse
from sklearn.utils._param_validation import Interval, StrOptions

from .._constants import IMAGE_SIZE, N_PIXELS
from .._labels import align_labels
from ..inference._tta import TTA
from ..models import ARCHITECTURES
from ..inference._engine import INT8
from ..models._inference import DTYPES, PREDICT_DTYPES
from ._callbacks import SCHEDULES

#: FERClassifier's ``_parameter_constraints``, in the order of its parameters.
PARAMETER_CONSTRAINTS = {
    "architecture": [StrOptions(set(ARCHITECTURES))],
    "filters": ["array-like", None],
    "kernel_sizes": [Interval(Integral, 1, None, closed="left"), "array-like", None],
    "dropout": [Interval(Real, 0, 1, closed="left"), "array-like", None],
    "dense_units": [Interval(Integral, 1, None, closed="left"), None],
    "dense_dropout": [Interval(Real, 0, 1, closed="left"), None],
    "activation": [str, callable, None],
    "augment": ["boolean"],
    "rotation": [Interval(Real, 0, 180, closed="both")],
    "shift": [Interval(Real, 0, 1, closed="left")],
    "shear": [Interval(Real, 0, 90, closed="left")],
    "zoom": [Interval(Real, 0, 1, closed="left")],
    "horizontal_flip": ["boolean"],
    "crop_size": [Interval(Integral, 8, IMAGE_SIZE, closed="both"), None],
    "erasing": [Interval(Real, 0, 1, closed="both")],
    "photometric": [Interval(Real, 0, None, closed="left")],
    "label_smoothing": [Interval(Real, 0, 1, closed="left")],
    "class_weight": [dict, StrOptions({"balanced"}), None],
    "optimizer": [str, type, keras.optimizers.Optimizer],
    "learning_rate": [Interval(Real, 0, None, closed="neither")],
    "weight_decay": [Interval(Real, 0, None, closed="left"), None],
    "lr_schedule": [StrOptions(set(SCHEDULES)), None],
    "lr_factor": [Interval(Real, 0, 1, closed="neither")],
    "lr_patience": [Interval(Integral, 0, None, closed="left")],
    "min_lr": [Interval(Real, 0, None, closed="left")],
    "warmup_epochs": [Interval(Integral, 0, None, closed="left")],
    "early_stopping": ["boolean"],
    "patience": [Interval(Integral, 0, None, closed="left")],
    "epochs": [Interval(Integral, 1, None, closed="left")],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "shuffle": ["boolean"],
    "validation_split": [Interval(Real, 0, 1, closed="left")],
    "verbose": [Interval(Integral, 0, 2, closed="both"), "boolean"],
    "random_state": ["random_state"],
    "train_dtype": [StrOptions(set(DTYPES))],
    "warm_start": ["boolean"],
    "freeze_blocks": [Interval(Integral, 0, None, closed="left")],
    "checkpoint_dir": [str, os.PathLike, None],
    "resume": ["boolean", StrOptions({"if_matching"})],
    "predict_dtype": [StrOptions({*PREDICT_DTYPES, INT8})],
    "tta": [StrOptions(set(TTA)), None],
}


def faces_2d(X):
    """Reshape (n, 48, 48) and (n, 48, 48, 1) faces to (n, 2304); refuse what is not faces.

    Examples
    --------
    >>> import numpy as np
    >>> from skfer.estimator._inputs import faces_2d
    >>> faces_2d(np.zeros((2, 48, 48, 1))).shape
    (2, 2304)
    >>> faces_2d(np.zeros((2, 10)))
    Traceback (most recent call last):
    ...
    ValueError: FERClassifier takes faces of shape (n, 2304), (n, 48, 48) or (n, 48, 48, 1), i.e. 48x48 grayscale faces; got X of shape (2, 10).
    """
    if X is None:
        return None
    if issparse(X):
        raise TypeError("FERClassifier does not support sparse input; pass dense arrays of faces.")
    X = np.asarray(X)
    if np.iscomplexobj(X):
        raise ValueError("Complex data not supported: FERClassifier takes real pixel values.")
    if X.dtype.kind in "OUS":
        try:
            X = X.astype(np.float32)
        except (TypeError, ValueError):
            raise ValueError(
                "FERClassifier takes numeric pixel arrays; X holds strings. Put "
                "PixelStringTransformer (and PixelNormalizer) before it in a pipeline."
            ) from None
    accepted = (
        f"faces of shape (n, {N_PIXELS}), (n, {IMAGE_SIZE}, {IMAGE_SIZE}) or "
        f"(n, {IMAGE_SIZE}, {IMAGE_SIZE}, 1)"
    )
    if X.ndim > 2:
        if X.shape[1:] not in ((IMAGE_SIZE, IMAGE_SIZE), (IMAGE_SIZE, IMAGE_SIZE, 1)):
            raise ValueError(f"FERClassifier takes {accepted}; got X of shape {X.shape}.")
        X = X.reshape(X.shape[0], N_PIXELS)
    elif X.ndim == 2 and X.shape[1] != N_PIXELS:
        raise ValueError(
            f"FERClassifier takes {accepted}, i.e. {IMAGE_SIZE}x{IMAGE_SIZE} grayscale faces; "
            f"got X of shape {X.shape}."
        )
    return X


def check_rates(value, name):
    """Refuse dropout rates that are not one float or a sequence of floats, each in [0, 1).

    Examples
    --------
    >>> from skfer.estimator._inputs import check_rates
    >>> check_rates((0.4, 0.5), "dropout")
    >>> check_rates(1.5, "dropout")
    Traceback (most recent call last):
    ...
    ValueError: The 'dropout' parameter of FERClassifier must hold rates in [0, 1); got 1.5.
    """
    rates = value if isinstance(value, (list, tuple)) else [value]
    for rate in rates:
        if not isinstance(rate, Real) or isinstance(rate, bool) or not 0 <= rate < 1:
            raise ValueError(
                f"The '{name}' parameter of FERClassifier must hold rates in [0, 1); got {value!r}."
            )


def check_partial_fit_labels(y, classes, fitted_classes=None):
    """Refuse ``partial_fit`` labels outside ``classes`` or the fitted ``classes_``; ``y`` aligned to them.

    Examples
    --------
    >>> import numpy as np
    >>> from skfer.estimator._inputs import check_partial_fit_labels
    >>> check_partial_fit_labels(["Happy"], None, np.array([3, 4])).tolist()
    [3]
    >>> check_partial_fit_labels([0, 5], [0, 1])
    Traceback (most recent call last):
    ...
    ValueError: partial_fit: y holds [5], which classes=[0, 1] lacks.
    """
    if fitted_classes is None:
        if classes is not None:
            unknown = sorted(set(np.asarray(y).tolist()) - set(np.asarray(classes).tolist()))
            if unknown:
                raise ValueError(f"partial_fit: y holds {unknown}, which classes={list(classes)} lacks.")
        return y
    y = align_labels(y, fitted_classes)
    if classes is not None and set(align_labels(classes, fitted_classes).tolist()) != set(fitted_classes.tolist()):
        raise ValueError(
            f"partial_fit: classes={list(classes)} differ from the classes of the first call, "
            f"{fitted_classes.tolist()}; start a new classifier (or fit) for other classes."
        )
    unknown = np.setdiff1d(np.asarray(y), fitted_classes)
    if unknown.size:
        raise ValueError(f"partial_fit: y holds {unknown.tolist()}, which classes_ {fitted_classes.tolist()} lacks.")
    return y


def check_photometric_range(photometric, X):
    """Refuse faces outside [0, 1] when ``photometric`` augmentation, which clips to that range, is on.

    Examples
    --------
    >>> import numpy as np
    >>> from skfer.estimator._inputs import check_photometric_range
    >>> check_photometric_range(1.0, np.full((2, 2304), 0.5))
    >>> check_photometric_range(1.0, np.full((2, 2304), 128.0))
    Traceback (most recent call last):
    ...
    ValueError: photometric=1.0 needs faces scaled to [0, 1] (PixelNormalizer(method="scale"), the pipeline's default); the training faces span [128, 128].
    """
    if photometric and X.size and (X.min() < 0 or X.max() > 1):
        raise ValueError(
            f"photometric={photometric!r} needs faces scaled to [0, 1] (PixelNormalizer(method=\"scale\"), "
            f"the pipeline's default); the training faces span [{X.min():.3g}, {X.max():.3g}]."
        )
