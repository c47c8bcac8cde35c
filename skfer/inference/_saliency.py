"""Saliency maps: which pixels of each 48x48 face a classifier's prediction rests on.

Two methods, both giving one map per face aligned with the 48x48 face:

* ``"gradcam"``: Grad-CAM (Selvaraju et al., ICCV 2017) on a Keras network:
  the feature maps of a convolutional layer weighted by the mean gradient of
  the class's score (its logit, before the softmax), summed over channels,
  negative values set to 0, then resized from the layer's grid to the part
  of the face the network sees. Gradients come from TensorFlow's
  ``GradientTape``, so it needs Keras' TensorFlow backend.
* ``"occlusion"``: occlusion sensitivity (Zeiler & Fergus, ECCV 2014): how
  much the class's probability falls when a square of the face is covered
  with the face's mean grey, averaged over the squares that cover each
  pixel. It only calls ``predict_proba``, so it explains exactly what any
  classifier predicts, on every backend, the 8-bit and ONNX engines included.
"""

from numbers import Integral
from typing import NamedTuple

import cv2
import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from .._constants import IMAGE_SIZE, N_PIXELS
from .._labels import align_labels
from .._validation import HasMethods, Interval, Options, check_params
from ..preprocessing import to_pixel_array

#: The saliency methods, the first the default.
METHODS = ("gradcam", "occlusion")
#: Occlusion's defaults: the side of the covered square and the step between squares, in pixels.
#: A quarter of the face's side, so that a square covers an eye or the mouth; the squares tile
#: the 48x48 face symmetrically, 10 a side. ``benchmarks/results/saliency_sanity.md`` compares
#: 8, 12 and 16 pixels.
PATCH_SIZE, STRIDE = 12, 4
#: Faces per network call: Grad-CAM's batch, and the most occluded copies per ``predict_proba`` call.
_GRADCAM_BATCH, _OCCLUSION_ROWS = 128, 2048

_CONSTRAINTS = {
    "estimator": [HasMethods(["predict_proba"])],
    "method": [Options(METHODS)],
    "layer": [str, None],
    "patch_size": [Interval(Integral, 1, IMAGE_SIZE, closed="both"), None],
    "stride": [Interval(Integral, 1, IMAGE_SIZE, closed="both"), None],
}
#: The settings that belong to one method only.
_SETTINGS = {"layer": "gradcam", "patch_size": "occlusion", "stride": "occlusion"}


class Saliency(NamedTuple):
    """The maps of a set of faces and what they explain, as :func:`saliency_maps` returns them.

    Attributes
    ----------
    faces : ndarray of shape (n_faces, 48, 48), dtype float32
        The faces as the estimator took them (pixel strings parsed to 0-255).
    proba : ndarray of shape (n_faces, n_classes)
        ``estimator.predict_proba`` of the faces, columns in ``classes_`` order.
    columns : ndarray of shape (n_faces,), dtype int
        The column of ``proba`` (the class) each map explains.
    maps : ndarray of shape (n_faces, 48, 48), dtype float32
        One map per face, pixel for pixel on the face.

    Examples
    --------
    >>> import numpy as np
    >>> from skfer.inference._saliency import Saliency
    >>> result = Saliency(np.zeros((1, 48, 48)), np.full((1, 2), 0.5), np.array([1]), np.zeros((1, 48, 48)))
    >>> result.columns.tolist(), result.maps.shape
    ([1], (1, 48, 48))
    """

    faces: np.ndarray
    proba: np.ndarray
    columns: np.ndarray
    maps: np.ndarray


def numeric_faces(X):
    """Faces as an (n, 2304) float32 array: pixel strings parsed, arrays reshaped, nothing rescaled.

    Numeric faces keep their values, so a bare FERClassifier's normalized
    input passes unchanged.

    Examples
    --------
    >>> import numpy as np
    >>> from skfer.inference._saliency import numeric_faces
    >>> numeric_faces(np.zeros((2, 48, 48, 1))).shape
    (2, 2304)
    >>> numeric_faces(np.zeros((2, 47, 47)))
    Traceback (most recent call last):
    ...
    ValueError: X must hold 48x48 faces as pixel strings or an array of shape (n, 2304), (n, 48, 48) or (n, 48, 48, 1); got an array of shape (2, 47, 47).
    """
    if hasattr(X, "to_numpy"):
        X = X.to_numpy()
    array = np.asarray(X, dtype=object) if isinstance(X, list) else np.asarray(X)
    if array.dtype.kind in "OUS":
        faces = to_pixel_array(array)
    else:
        shapes = ((N_PIXELS,), (IMAGE_SIZE, IMAGE_SIZE), (IMAGE_SIZE, IMAGE_SIZE, 1))
        if array.dtype.kind not in "iuf" or array.ndim < 2 or array.shape[1:] not in shapes:
            raise ValueError(
                f"X must hold 48x48 faces as pixel strings or an array of shape (n, {N_PIXELS}), "
                f"(n, {IMAGE_SIZE}, {IMAGE_SIZE}) or (n, {IMAGE_SIZE}, {IMAGE_SIZE}, 1); got an "
                f"array of shape {array.shape}{'' if array.dtype.kind in 'iuf' else f' of {array.dtype}'}."
            )
        faces = array.reshape(len(array), N_PIXELS).astype(np.float32)
        bad = ~np.isfinite(faces).all(axis=1)
        if bad.any():
            raise ValueError(f"Face at row {int(np.argmax(bad))} of X holds NaN or inf.")
    if len(faces) == 0:
        raise ValueError("X holds no face; saliency maps need at least one.")
    return faces


def _target_columns(target, classes, proba):
    """The column of ``classes`` each face's map explains: the predicted class, or ``target``'s."""
    n = len(proba)
    if target is None:
        return proba.argmax(axis=1)
    labels = np.asarray(target)
    if labels.ndim == 0:
        labels = np.full(n, labels.item(), dtype=labels.dtype)
    if labels.shape != (n,):
        raise ValueError(
            f"target must be one label of classes_ or one label per face ({n} faces); got an "
            f"array of shape {labels.shape}."
        )
    aligned = align_labels(labels, classes).tolist()
    index = {label: column for column, label in enumerate(classes.tolist())}
    unknown = [given for given, label in zip(labels.tolist(), aligned) if label not in index]
    if unknown:
        raise ValueError(
            f"target holds {list(dict.fromkeys(unknown))}, which are not in the classifier's classes_ "
            f"{classes.tolist()}."
        )
    return np.asarray([index[label] for label in aligned], dtype=int)


def check_method(estimator, method, **settings):
    """Refuse a method, or a setting, that cannot explain ``estimator``, before any face is read.

    ``settings`` are ``layer``, ``patch_size`` and ``stride``, each None or
    a setting of ``method``. Grad-CAM needs a fitted Keras network and
    Keras' TensorFlow backend.

    Examples
    --------
    >>> from sklearn.dummy import DummyClassifier
    >>> from skfer.inference._saliency import check_method
    >>> clf = DummyClassifier().fit([[0]], [0])
    >>> check_method(clf, "occlusion")
    >>> check_method(clf, "gradcam")
    Traceback (most recent call last):
    ...
    TypeError: method='gradcam' needs a Keras classifier (a FERClassifier, or a pipeline ending in one); DummyClassifier has no Keras network. Use method='occlusion', which needs only predict_proba.
    """
    check_params({"estimator": estimator, "method": method, **settings}, _CONSTRAINTS, "saliency maps")
    foreign = [name for name, value in settings.items() if value is not None and _SETTINGS[name] != method]
    if foreign:
        raise ValueError(
            f"{foreign[0]} is a setting of method={_SETTINGS[foreign[0]]!r}; it does nothing for "
            f"method={method!r}. Leave it None."
        )
    check_is_fitted(estimator)
    if method == "gradcam":
        keras_network(estimator)


def saliency_maps(estimator, X, *, target=None, method="gradcam", layer=None, patch_size=None, stride=None):
    """One saliency map per face, for the predicted class or ``target``, aligned with the 48x48 face.

    Parameters
    ----------
    estimator : classifier with ``predict_proba``
        Fitted. ``"gradcam"`` needs a Keras classifier (``model_``), such as
        FERClassifier or a pipeline ending in one; ``"occlusion"`` takes any.
    X : array-like of str, or of numbers of shape (n, 2304), (n, 48, 48) or (n, 48, 48, 1)
        Faces in a form the estimator takes.
    target : label or array-like of shape (n_faces,), default=None
        The class each map explains, a label of ``classes_`` (emotion names
        and FER2013's labels 0-6 stand for each other); None: each face's
        predicted class.
    method : {"gradcam", "occlusion"}, default="gradcam"
        See the module's docstring.
    layer : str, default=None
        ``"gradcam"``: the name of the layer explained; None takes the last
        convolutional block's output (the last layer after the last Conv2D
        that keeps its grid: ``act3_2``, 11x11, in the default network).
    patch_size, stride : int, default=None
        ``"occlusion"``: side of the covered square and step between squares
        (12 and 4 if None). Where the steps do not end at the face's edge, one
        more row and column of squares is placed there.

    Returns
    -------
    Saliency
        The faces, ``predict_proba``, the explained columns and the maps.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfer.inference._saliency import saliency_maps
    >>> rng = np.random.default_rng(0)
    >>> X = rng.integers(0, 256, (20, 2304)).astype(np.float32)
    >>> y = (X[:, :1152].mean(axis=1) > X[:, 1152:].mean(axis=1)).astype(int)
    >>> result = saliency_maps(LogisticRegression().fit(X, y), X[:2], method="occlusion")
    >>> result.maps.shape
    (2, 48, 48)
    """
    check_method(estimator, method, layer=layer, patch_size=patch_size, stride=stride)
    faces = numeric_faces(X)
    proba = np.reshape(estimator.predict_proba(faces), (len(faces), -1))
    columns = _target_columns(target, np.asarray(estimator.classes_), proba)
    if method == "gradcam":
        maps = gradcam(estimator, faces, columns, layer)
    else:
        explained = proba[np.arange(len(faces)), columns]
        maps = occlusion(estimator, faces, columns, explained, patch_size or PATCH_SIZE, stride or STRIDE)
    return Saliency(faces.reshape(-1, IMAGE_SIZE, IMAGE_SIZE), proba, columns, maps)


# -- Grad-CAM -----------------------------------------------------------------------


def keras_network(estimator):
    """The classifier that holds ``estimator``'s Keras network (its last step) and the network.

    Raises a TypeError for classifiers without one, and a ValueError on a
    Keras backend other than TensorFlow (Grad-CAM's gradients come from
    ``tf.GradientTape``).

    Examples
    --------
    >>> from sklearn.dummy import DummyClassifier
    >>> from skfer.inference._saliency import keras_network
    >>> keras_network(DummyClassifier())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    TypeError: method='gradcam' needs a Keras classifier ...
    """
    classifier = estimator[-1] if isinstance(estimator, Pipeline) else estimator
    model = getattr(classifier, "model_", None)
    if model is None or not hasattr(model, "get_layer"):  # no Keras import for a classifier without one
        raise TypeError(
            f"method='gradcam' needs a Keras classifier (a FERClassifier, or a pipeline ending in "
            f"one); {type(classifier).__name__} has no Keras network. Use method='occlusion', "
            "which needs only predict_proba."
        )
    import keras

    backend = keras.backend.backend()
    if backend != "tensorflow":
        raise ValueError(
            f"method='gradcam' computes gradients with TensorFlow's GradientTape, and Keras runs on "
            f"the {backend!r} backend here: skfer computes Grad-CAM on the TensorFlow backend only. "
            "Use method='occlusion' (every backend), or set KERAS_BACKEND=tensorflow before "
            "importing Keras."
        )
    if not isinstance(model, keras.Model):
        raise TypeError(f"{type(classifier).__name__}.model_ is a {type(model).__name__}, not a Keras model.")
    return classifier, model


def _network_input(estimator, faces):
    """The Keras network of ``estimator`` and the faces as its input (through a pipeline's first steps)."""
    classifier, model = keras_network(estimator)
    x = estimator[:-1].transform(faces) if isinstance(estimator, Pipeline) else faces
    x = classifier.feature_encoder_.transform(np.asarray(x, dtype=np.float32).reshape(len(faces), -1))
    return model, np.asarray(x, dtype=np.float32)


def explained_layer(model, name=None):
    """The layer Grad-CAM explains: ``name``, or the last convolutional block's output.

    The default is the last layer, after the network's last Conv2D, whose
    output keeps that convolution's grid (its BatchNorm and activation, up to
    the pooling).

    Examples
    --------
    >>> from skfer.models import build_dcnn
    >>> from skfer.inference._saliency import explained_layer
    >>> explained_layer(build_dcnn()).name
    'act3_2'
    """
    import keras

    if name is not None:
        try:
            layer = model.get_layer(name)
        except ValueError:
            layer = None
        if layer is None or len(layer.output.shape) != 4:
            grids = [each.name for each in model.layers if len(each.output.shape) == 4]
            raise ValueError(
                f"layer={name!r} is not a layer of the network {model.name!r} with feature maps "
                f"(batch, height, width, channels) as output; those are {grids}."
            )
        return layer
    convolutions = [i for i, each in enumerate(model.layers) if isinstance(each, keras.layers.Conv2D)]
    if not convolutions:
        raise ValueError(f"The network {model.name!r} has no Conv2D layer for Grad-CAM; use method='occlusion'.")
    chosen = model.layers[convolutions[-1]]
    for each in model.layers[convolutions[-1] + 1 :]:
        if len(each.output.shape) != 4 or each.output.shape[1:3] != chosen.output.shape[1:3]:
            break
        chosen = each
    return chosen


def _seen_window(model):
    """Where the network's convolutions look: (offset, side) of the square of the face they see."""
    from ..models import crop_size

    side = crop_size(model) or IMAGE_SIZE
    return (IMAGE_SIZE - side) // 2, side


def gradcam(estimator, faces, columns, layer=None):
    """Grad-CAM maps of (n, 2304) ``faces`` for the classes at ``columns``, on the 48x48 face.

    The class score is the output layer's logit (its Dense layer before the
    softmax). The maps are resized bilinearly from the layer's grid to the
    square the network sees (its central crop, for networks with a
    :class:`~skfer.models.FaceCrop`); the border it never sees is 0.

    Examples
    --------
    >>> import numpy as np
    >>> from skfer import FERClassifier
    >>> from skfer.inference._saliency import gradcam
    >>> X = np.random.default_rng(0).random((4, 2304), dtype=np.float32)
    >>> clf = FERClassifier(architecture__filters=(4,), architecture__dense_units=8, dropout=0.1).initialize(X, [0, 1, 0, 1])
    >>> gradcam(clf, X[:2], np.array([0, 1])).shape
    (2, 48, 48)
    """
    import keras

    model, x = _network_input(estimator, faces)  # refuses backends other than TensorFlow
    import tensorflow as tf

    feature_layer, output = explained_layer(model, layer), model.layers[-1]
    if not isinstance(output, keras.layers.Dense):
        raise ValueError(
            f"Grad-CAM reads the class scores before the softmax of the network's last layer, "
            f"which must be Dense; {model.name!r} ends with {type(output).__name__} {output.name!r}."
        )
    probe = keras.Model(model.inputs, [feature_layer.output, output.input])
    offset, side = _seen_window(model)
    maps = np.zeros((len(x), IMAGE_SIZE, IMAGE_SIZE), dtype=np.float32)
    for start in range(0, len(x), _GRADCAM_BATCH):
        batch = tf.convert_to_tensor(x[start : start + _GRADCAM_BATCH])
        chosen = tf.convert_to_tensor(columns[start : start + _GRADCAM_BATCH, None], dtype=tf.int32)
        with tf.GradientTape() as tape:
            features, hidden = probe(batch, training=False)
            logits = tf.matmul(tf.cast(hidden, tf.float32), tf.cast(output.kernel, tf.float32))
            if output.use_bias:
                logits = logits + tf.cast(output.bias, tf.float32)
            score = tf.reduce_sum(tf.gather(logits, chosen, axis=1, batch_dims=1))
        gradients = tf.cast(tape.gradient(score, features), tf.float32)
        weights = tf.reduce_mean(gradients, axis=(1, 2))
        cams = tf.nn.relu(tf.einsum("nhwc,nc->nhw", tf.cast(features, tf.float32), weights)).numpy()
        for i, cam in enumerate(cams, start):
            maps[i, offset : offset + side, offset : offset + side] = cv2.resize(
                cam, (side, side), interpolation=cv2.INTER_LINEAR
            )
    return maps


# -- occlusion ------------------------------------------------------------------------


def _squares(patch_size, stride):
    """Masks (n_squares, 48, 48) of the covered squares: steps of ``stride``, the last at the edge."""
    starts = list(range(0, IMAGE_SIZE - patch_size + 1, stride))
    if starts[-1] != IMAGE_SIZE - patch_size:
        starts.append(IMAGE_SIZE - patch_size)
    masks = np.zeros((len(starts) ** 2, IMAGE_SIZE, IMAGE_SIZE), dtype=bool)
    for k, (top, left) in enumerate((top, left) for top in starts for left in starts):
        masks[k, top : top + patch_size, left : left + patch_size] = True
    return masks


def occlusion(estimator, faces, columns, explained, patch_size=PATCH_SIZE, stride=STRIDE):
    """Occlusion maps of (n, 2304) ``faces``: the fall of ``explained`` (the class's probability) per covered pixel.

    Each square is filled with its face's mean value, so faces in any
    scale (0-255, or a normalizer's) are covered with a neutral grey. The
    value at a pixel is the mean fall over the squares covering it:
    positive where covering the face lowers the class's probability,
    negative where it raises it.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfer.inference._saliency import occlusion
    >>> X = np.zeros((10, 2304), np.float32)
    >>> X[5:, :48] = 255  # class 1: a bright top row
    >>> clf = LogisticRegression().fit(X, np.repeat([0, 1], 5))
    >>> maps = occlusion(clf, X[5:6], np.array([1]), clf.predict_proba(X[5:6])[:, 1])
    >>> bool(maps[0, 0].mean() > 0 and maps[0, 20:].max() == 0)
    True
    """
    masks = _squares(patch_size, stride)
    coverage = masks.sum(axis=0)
    images = faces.reshape(-1, IMAGE_SIZE, IMAGE_SIZE)
    maps = np.empty(images.shape, dtype=np.float32)
    per_call = max(1, _OCCLUSION_ROWS // len(masks))
    for start in range(0, len(images), per_call):
        chunk = slice(start, start + per_call)
        block = images[chunk]
        grey = block.mean(axis=(1, 2), dtype=np.float64)[:, None, None, None]
        covered = np.where(masks[None], grey, block[:, None]).astype(np.float32)
        proba = np.reshape(estimator.predict_proba(covered.reshape(-1, N_PIXELS)), (len(block), len(masks), -1))
        fall = explained[chunk, None] - proba[np.arange(len(block)), :, columns[chunk]]
        maps[chunk] = np.einsum("kp,pij->kij", fall, masks) / coverage
    return maps
