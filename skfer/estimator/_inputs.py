"""What FERClassifier accepts as faces and as parameters beyond their declared constraints."""

import os
from numbers import Integral, Real

import keras
import numpy as np
from scipy.sparse import issparse
from .._validation import Interval, Options

from .._constants import IMAGE_SIZE, N_PIXELS
from .._labels import align_labels
from ..inference._engine import INT8
from ..inference._tta import TTA
from ..models import ARCHITECTURES
from ..models._inference import DTYPES, PREDICT_DTYPES
from ._augmentation import Augmentation
from ._callbacks import LR_SCHEDULES, callback_groups, check_callback_settings
from ._network import DEFAULT_LOSS, architecture_settings
from ._routing import ROUTING_PREFIXES

#: FERClassifier's ``_parameter_constraints``, in the order of its parameters.
PARAMETER_CONSTRAINTS = {
    "architecture": [Options(set(ARCHITECTURES))],
    "dropout": [Interval(Real, 0, 1, closed="left"), "array-like", None],
    "augmentation": [type, Augmentation, keras.layers.Layer, None],
    "loss": [str, type, keras.losses.Loss],
    "label_smoothing": [Interval(Real, 0, 1, closed="left")],
    "distillation": [Interval(Real, 0, 1, closed="both")],
    "class_weight": [dict, Options({"balanced"}), None],
    "optimizer": [str, type, keras.optimizers.Optimizer],
    "learning_rate": [Interval(Real, 0, None, closed="neither")],
    "weight_decay": [Interval(Real, 0, None, closed="left"), None],
    "lr_schedule": [Options(set(LR_SCHEDULES)), None],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "epochs": [Interval(Integral, 1, None, closed="left")],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "callbacks": [list, tuple, dict, type, keras.callbacks.Callback, None],
    "verbose": [Options({"auto"}), Interval(Integral, 0, 2, closed="both"), "boolean"],
    "random_state": ["random_state"],
    "train_dtype": [Options(set(DTYPES))],
    "warm_start": ["boolean"],
    "freeze_blocks": [Interval(Integral, 0, None, closed="left")],
    "checkpoint_dir": [str, os.PathLike, None],
    "resume": ["boolean", Options({"if_matching"})],
    "predict_dtype": [Options({*PREDICT_DTYPES, INT8})],
    "tta": [Options(set(TTA)), None],
}

#: Keywords ``fit`` takes for one fit (``partial_fit`` all but ``epochs``), also as routed ``fit__*``.
FIT_KEYWORDS = ("epochs", "batch_size", "verbose")
#: Routed ``fit__*`` and ``predict__*`` parameters FERClassifier knows.
_ROUTED_FIT = (*FIT_KEYWORDS, "validation_data", "callbacks")
_ROUTED_PREDICT = ("batch_size",)


def check_routed(estimator):
    """Refuse parameters FERClassifier does not know: no such parameter, or a routed one no part of the fit takes.

    The grouped settings (``architecture__*``, ``augmentation__*``, ...) are
    checked by the parts they reach when a fit makes them.

    Examples
    --------
    >>> from skfer import FERClassifier
    >>> from skfer.estimator._inputs import check_routed
    >>> check_routed(FERClassifier(model="nonsense"))
    Traceback (most recent call last):
    ...
    ValueError: FERClassifier has no parameter 'model'; its parameters are architecture, dropout, augmentation, loss, label_smoothing, distillation, class_weight, optimizer, learning_rate, weight_decay, lr_schedule, early_stopping, validation_fraction, epochs, batch_size, callbacks, verbose, random_state, train_dtype, warm_start, freeze_blocks, checkpoint_dir, resume, predict_dtype, tta, and routed PREFIX__name settings.
    """
    for name in vars(estimator):
        if name.startswith("_") or name.endswith("_") or name in PARAMETER_CONSTRAINTS:
            continue
        prefix, _, setting = name.partition("__")
        known = (
            (prefix == "fit" and setting in _ROUTED_FIT)
            or (prefix == "predict" and setting in _ROUTED_PREDICT)
            or (setting and prefix in ROUTING_PREFIXES - {"fit", "predict"})
        )
        if not known:
            raise ValueError(
                f"FERClassifier has no parameter {name!r}; its parameters are "
                f"{', '.join(PARAMETER_CONSTRAINTS)}, and routed PREFIX__name settings."
            )
    check_callback_settings(estimator)


def grouped_defaults(estimator):
    """Every grouped setting ``PREFIX__name`` of ``estimator`` with its value when not routed: what ``get_params(deep=True)`` adds.

    Examples
    --------
    >>> from skfer import FERClassifier
    >>> from skfer.estimator._inputs import grouped_defaults
    >>> defaults = grouped_defaults(FERClassifier())
    >>> defaults["architecture__kernel_sizes"], defaults["early_stopping__patience"]
    (3, 10)
    """
    out = {}
    if isinstance(estimator.architecture, str) and estimator.architecture in ARCHITECTURES:
        out.update({f"architecture__{k}": v for k, v in architecture_settings(estimator.architecture).items()})
    augmentation = estimator.augmentation
    if augmentation is Augmentation or isinstance(augmentation, Augmentation):
        spec = augmentation() if augmentation is Augmentation else augmentation
        out.update({f"augmentation__{k}": v for k, v in spec.get_params().items()})
    for prefix, (_, settings) in callback_groups(estimator).items():
        out.update({f"{prefix}__{k}": v for k, v in settings.items()})
    return out


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
        except TypeError as exc:  # an object that is neither a number nor a string
            raise TypeError(
                f"FERClassifier takes numeric pixel arrays; X holds something else ({exc}). "
                "Pixel strings go through PixelStringTransformer first."
            ) from None
        except ValueError:
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
    elif X.ndim == 2 and X.shape[1] == 0:
        raise ValueError(
            f"Found array with 0 feature(s) (shape={X.shape}) while a minimum of {N_PIXELS} is "
            f"required: FERClassifier takes {accepted}."
        )
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
    ValueError: augmentation__photometric=1.0 needs faces scaled to [0, 1] (PixelNormalizer(method="scale"), the pipeline's default); the training faces span [128, 128].
    """
    if photometric and X.size and (X.min() < 0 or X.max() > 1):
        raise ValueError(
            f"augmentation__photometric={photometric!r} needs faces scaled to [0, 1] (PixelNormalizer(method=\"scale\"), "
            f"the pipeline's default); the training faces span [{X.min():.3g}, {X.max():.3g}]."
        )


def check_teacher_proba(teacher_proba, n_faces, classes, loss):
    """``teacher_proba`` as float32 of shape (n_faces, n_classes), columns in the order of ``classes``; errors name what is wrong.

    An array's columns must follow ``classes`` (the sorted labels of ``y``);
    a pandas DataFrame's columns name the classes (as labels or emotion
    names, :func:`skfer._labels.align_labels`) and are put in that order.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from skfer.estimator._inputs import check_teacher_proba
    >>> check_teacher_proba([[0.25, 0.75], [1, 0]], 2, np.array(["Happy", "Sad"]), "sparse_categorical_crossentropy").dtype
    dtype('float32')
    >>> named = pd.DataFrame({"Sad": [0.9], "Happy": [0.1]})
    >>> check_teacher_proba(named, 1, np.array([3, 4]), "sparse_categorical_crossentropy").tolist()
    [[0.10000000149011612, 0.8999999761581421]]
    >>> check_teacher_proba([[0.5, 0.6]], 1, np.array([0, 1]), "sparse_categorical_crossentropy")
    Traceback (most recent call last):
    ...
    ValueError: teacher_proba's rows must be probabilities summing to 1; row 0 sums to 1.1.
    """
    if loss != DEFAULT_LOSS:
        raise ValueError(
            f"teacher_proba is distilled by the default loss ({DEFAULT_LOSS!r}); loss={loss!r} cannot take it."
        )
    columns = getattr(teacher_proba, "columns", None)
    try:
        proba = np.asarray(teacher_proba, dtype=np.float32)
    except (TypeError, ValueError) as error:
        raise ValueError(f"teacher_proba must be an array of probabilities: {error}") from None
    expected = (n_faces, len(classes))
    if proba.shape != expected:
        raise ValueError(
            f"teacher_proba must have shape {expected}: a row per face and a column per class of y "
            f"({', '.join(map(str, classes))}, in that order); got {proba.shape}."
        )
    if columns is not None:
        named = align_labels(np.asarray(columns), classes).tolist()
        missing = [c for c in classes.tolist() if c not in named]
        if missing:
            raise ValueError(
                f"teacher_proba's columns {list(columns)} do not name the classes of y {classes.tolist()}: "
                f"{missing} missing."
            )
        proba = proba[:, [named.index(c) for c in classes.tolist()]]
    bad = ~np.isfinite(proba).all(axis=1) | (proba < 0).any(axis=1)
    if bad.any():
        raise ValueError(f"teacher_proba must hold finite probabilities >= 0; row {np.flatnonzero(bad)[0]} does not.")
    sums = proba.sum(axis=1)
    off = np.abs(sums - 1) > 1e-3
    if off.any():
        row = np.flatnonzero(off)[0]
        raise ValueError(f"teacher_proba's rows must be probabilities summing to 1; row {row} sums to {sums[row]:.3g}.")
    return proba
