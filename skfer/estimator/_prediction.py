"""The one prediction routine of FERClassifier: the prediction graph, its batches and the ``tta`` views.

``predict``, ``predict_proba`` and ``score`` call :func:`probabilities`;
``predict_images``, ``stream_emotions`` and the CLI reach it through a
pipeline's ``predict_proba``, and ``export_onnx`` writes the same graph and
views into the ONNX file.
"""

from numbers import Integral

import numpy as np
from .._validation import check_params
from sklearn.utils.validation import check_is_fitted

from ..models import crop_size
from ..models._inference import PREDICT_BATCH, inference_model, predict_in_batches, resolve_dtype
from ..inference._engine import INT8, Int8Engine
from ..inference._tta import tta_views


def make_predictor(estimator):
    """Give ``estimator`` a ``predictor_`` for ``model_`` in ``predict_dtype``, noting what it was made for.

    For ``predict_dtype="int8"`` the predictor is the engine :func:`renew_predictor`
    made for the current weights (None if there is none: prediction then
    says so); for the others, a Keras graph over ``model_``'s own weights.
    """
    dtype = resolve_dtype(estimator.predict_dtype)
    if dtype == INT8:
        estimator.predictor_ = getattr(estimator, "engine_", None)
    else:
        estimator.predictor_ = inference_model(estimator.model_, estimator.predict_dtype)
    estimator._predictor_source = (estimator.predictor_, estimator.model_, dtype)


def renew_predictor(estimator, faces=None):
    """Make the predictors for weights that a fit (or ``initialize``) just set.

    The int8 engine of the former weights is dropped; with
    ``predict_dtype="int8"`` and ``faces`` (a function giving the classifier
    input the weights were fitted on, called only then) a new one is
    converted and calibrated. ``initialize`` passes no faces: an engine is
    never made from untrained weights.

    Raises
    ------
    RuntimeError
        If making the engine failed; ``model_`` keeps the trained weights and
        predicts with ``predict_dtype="float32"``.
    """
    estimator.__dict__.pop("engine_", None)
    if estimator.predict_dtype == INT8 and faces is not None:
        try:
            estimator.engine_ = Int8Engine.from_classifier(estimator, faces())
        except Exception as error:
            make_predictor(estimator)
            raise RuntimeError(
                f"The fit finished and its weights are kept in model_ (and history_), but making the "
                f'8-bit engine (predict_dtype="int8") failed: {type(error).__name__}: {error}. Predict '
                'with set_params(predict_dtype="float32"), or save the weights with '
                "model_.save_weights(PATH)."
            ) from error
    make_predictor(estimator)


def current_predictor(estimator):
    """``predictor_`` if it was made for ``model_`` in ``predict_dtype``, else one made for this call.

    The check compares identities, not layers: it costs nothing next to one
    face's prediction, and a ``model_`` replaced by hand is never predicted
    with the old graph. An int8 engine can only be made by a fit (it is
    calibrated on the fit's faces): without one for ``model_``, this raises.
    """
    names = ("predict_dtype", "tta")
    check_params({name: getattr(estimator, name) for name in names}, estimator._parameter_constraints,
                 type(estimator).__name__)
    dtype = resolve_dtype(estimator.predict_dtype)
    source = getattr(estimator, "_predictor_source", (None, None, None))
    predictor = getattr(estimator, "predictor_", None)
    if dtype == INT8:
        if predictor is not None and source == (predictor, estimator.model_, dtype):
            if predictor.made_from(estimator.model_):
                return predictor
            raise ValueError(
                'predict_dtype="int8": the weights of model_ changed after its 8-bit engine was made '
                "from them (set_weights or load_weights on model_). Fit again to make an engine for "
                'them, or predict with set_params(predict_dtype="float32").'
            )
        raise ValueError(
            'predict_dtype="int8" predicts with an 8-bit engine that a fit makes, calibrated on '
            "its faces, and this classifier has none for its current network. Fit it with "
            'predict_dtype="int8", or predict with predict_dtype="float32".'
        )
    if predictor is not None and source == (predictor, estimator.model_, dtype):
        return predictor
    return inference_model(estimator.model_, estimator.predict_dtype)


def batch_size_of(kwargs, method):
    """The ``batch_size`` keyword, the one keyword prediction takes; any other is refused by name.

    Examples
    --------
    >>> from skfer.estimator._prediction import batch_size_of
    >>> batch_size_of({"batch_size": 64}, "predict")
    64
    >>> batch_size_of({"steps": 2}, "predict")
    Traceback (most recent call last):
    ...
    TypeError: FERClassifier.predict takes batch_size as its only keyword (tta and predict_dtype are parameters); got ['steps'].
    """
    kwargs = dict(kwargs)
    batch_size = kwargs.pop("batch_size", None)
    if kwargs.pop("verbose", 0):
        kwargs["verbose"] = True  # skfer's prediction prints nothing: refuse rather than ignore
    if kwargs:
        raise TypeError(
            f"FERClassifier.{method} takes batch_size as its only keyword (tta and "
            f"predict_dtype are parameters); got {sorted(kwargs)}."
        )
    if batch_size is not None and (not isinstance(batch_size, Integral) or batch_size < 1):
        raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}.")
    return batch_size


def probabilities(estimator, X, batch_size=None):
    """Class probabilities of faces ``X`` through the prediction graph, averaged over the ``tta`` views.

    Parameters
    ----------
    estimator : FERClassifier
        A fitted classifier.
    X : array-like of shape (n_samples, 2304), (n_samples, 48, 48) or (n_samples, 48, 48, 1)
        Faces, checked here like ``fit``'s.
    batch_size : int, default=None
        Faces per network call; ``predict__batch_size`` or 256 when None.

    Returns
    -------
    ndarray of shape (n_samples, n_classes)
        Probabilities in the order of ``classes_``.

    Examples
    --------
    >>> import numpy as np
    >>> from skfer import FERClassifier
    >>> from skfer.estimator._prediction import probabilities
    >>> X, y = np.zeros((4, 2304), np.float32), [0, 1, 0, 1]
    >>> clf = FERClassifier(architecture__filters=(4,), architecture__dense_units=8, dropout=0.1).initialize(X, y)
    >>> probabilities(clf, X).shape
    (4, 2)
    """
    check_is_fitted(estimator, "model_")
    X, _ = estimator._check_faces(X, reset=False)
    X = estimator.feature_encoder_.transform(X)
    predictor = current_predictor(estimator)
    size = batch_size or getattr(estimator, "predict__batch_size", None) or PREDICT_BATCH
    crop = crop_size(estimator.model_) if estimator.tta == "ten_crop" else None  # only ten_crop's corners use it
    views = tta_views(np.asarray(X, dtype=np.float32), estimator.tta, crop)
    proba = sum(predict_in_batches(predictor, view, size) for view in views) / len(views)
    return proba.reshape(-1, estimator.n_classes_)
