"""A prediction-only copy of a trained DCNN, with BatchNormalization folded in."""

import weakref

import keras
import numpy as np

from ._augmentation import RandomAffine
from ._dcnn import OUTPUT_LAYER

#: Layers that are the identity at inference, left out of the copy.
_TRAINING_ONLY = (keras.layers.Dropout, keras.layers.RandomFlip, RandomAffine)

#: Each model's latest inference copy, with the key it was made for.
_COPIES = weakref.WeakKeyDictionary()

#: Compute dtypes of ``inference_model`` and the Keras dtype policy of each.
DTYPES = {"float32": "float32", "bfloat16": "mixed_bfloat16"}


def check_dtype(dtype, name="dtype"):
    """Return the Keras dtype policy of ``dtype``, a key of ``DTYPES``; ``name`` is for the error."""
    if dtype not in DTYPES:
        raise ValueError(f"{name} must be one of {sorted(DTYPES)}; got {dtype!r}.")
    return DTYPES[dtype]


def _numpy(variable):
    return np.asarray(keras.ops.convert_to_numpy(variable))


def _folded(layer, batch_norm):
    """Kernel and bias of ``layer`` with ``batch_norm`` (at inference) applied to its output."""
    kernel = _numpy(layer.kernel)
    bias = _numpy(layer.bias) if layer.use_bias else np.zeros(kernel.shape[-1], kernel.dtype)
    gamma = _numpy(batch_norm.gamma) if batch_norm.scale else 1.0
    beta = _numpy(batch_norm.beta) if batch_norm.center else 0.0
    mean, variance = _numpy(batch_norm.moving_mean), _numpy(batch_norm.moving_variance)
    scale = gamma / np.sqrt(variance + batch_norm.epsilon)
    return [kernel * scale, (bias - mean) * scale + beta]


def inference_model(model, dtype="float32"):
    """Copy a trained DCNN for fast prediction: BatchNorm folded, training-only layers dropped.

    Each BatchNormalization that follows a Conv2D or Dense layer becomes part
    of that layer's kernel and bias, and Dropout and augmentation layers,
    which do nothing at inference, are left out. The copy predicts what
    ``model`` predicts (to float32 rounding) with fewer, cheaper operations.
    It holds copies of the weights: train ``model``, then copy it again.

    Parameters
    ----------
    model : keras.Model
        A network built by :func:`build_dcnn` (one chain of layers).
    dtype : {"float32", "bfloat16"}, default="float32"
        Compute dtype of the copy. ``"bfloat16"`` runs every layer but
        the softmax output in bfloat16 (Keras' ``mixed_bfloat16`` policy):
        about twice as fast on CPUs with AVX512-BF16 or AMX, slower on CPUs
        without them, and its probabilities differ from float32's in the
        third decimal.

    Returns
    -------
    keras.Model
        The prediction-only copy, same input and output shapes as ``model``.

    Examples
    --------
    >>> import numpy as np
    >>> from skfer.models import build_dcnn
    >>> from skfer.models._inference import inference_model
    >>> model = build_dcnn()
    >>> fast = inference_model(model)
    >>> len(fast.layers) < len(model.layers)
    True
    >>> faces = np.random.default_rng(0).random((2, 2304), dtype=np.float32)
    >>> bool(np.allclose(fast.predict_on_batch(faces), model.predict_on_batch(faces), atol=1e-5))
    True
    """
    policy = check_dtype(dtype)
    layers = [layer for layer in model.layers[1:] if not isinstance(layer, _TRAINING_ONLY)]
    inputs = keras.Input(shape=model.input_shape[1:], name=model.layers[0].name)
    x = inputs
    i = 0
    while i < len(layers):
        layer = layers[i]
        following = layers[i + 1] if i + 1 < len(layers) else None
        config = layer.get_config()
        if layer.name != OUTPUT_LAYER:
            config["dtype"] = policy
        weights = layer.get_weights()
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense)) and isinstance(
            following, keras.layers.BatchNormalization
        ):
            config["use_bias"] = True
            weights = _folded(layer, following)
            i += 1
        copy = type(layer).from_config(config)
        x = copy(x)
        copy.set_weights(weights)
        i += 1
    return keras.Model(inputs, x, name=f"{model.name}_inference")


def cached_inference_model(model, dtype="float32"):
    """``inference_model(model, dtype)``, made once and reused while ``model`` is unchanged.

    The copy is made again when ``dtype`` or the output layer's bias changes,
    which every training step and every weight load does. The cache holds
    ``model`` weakly, so it keeps nothing alive and no estimator state.
    """
    bias = keras.ops.convert_to_numpy(model.get_layer(OUTPUT_LAYER).bias).tobytes()
    key = (dtype, bias)
    cached = _COPIES.get(model)
    if cached is None or cached[0] != key:
        cached = _COPIES[model] = (key, inference_model(model, dtype))
    return cached[1]
