"""Prediction through a trained network's own weights, with BatchNorm folded on the fly."""

import keras
import numpy as np
from keras import ops

from ._augmentation import RandomAffine, RandomErasing, RandomPhotometric
from ._dcnn import OUTPUT_LAYER

#: Layers that are the identity at inference, left out of the prediction graph.
_TRAINING_ONLY = (keras.layers.Dropout, keras.layers.RandomFlip, RandomAffine, RandomErasing, RandomPhotometric)

#: Compute dtypes of prediction and the Keras dtype policy of each.
DTYPES = {"float32": "float32", "bfloat16": "mixed_bfloat16"}

#: What ``predict_dtype`` may be: a compute dtype, or ``"auto"`` (:func:`resolve_dtype`).
PREDICT_DTYPES = (*DTYPES, "auto")

#: Faces per compiled predict step (fastest on 2 CPU cores among 32-1024).
PREDICT_BATCH = 256


def resolve_dtype(dtype):
    """``"auto"`` as the dtype this machine predicts fastest in; any other dtype as it is.

    ``"auto"`` is ``"bfloat16"`` on CPUs that compute it natively
    (AVX512-BF16 or AMX, see :func:`skfer._hardware.native_bfloat16`) and
    ``"float32"`` elsewhere.

    Examples
    --------
    >>> from skfer.models._inference import resolve_dtype
    >>> resolve_dtype("float32"), resolve_dtype("auto") in ("float32", "bfloat16")
    ('float32', True)
    """
    if dtype == "auto":
        from .._hardware import native_bfloat16

        return "bfloat16" if native_bfloat16() else "float32"
    return dtype


def check_dtype(dtype, name="dtype"):
    """Return the Keras dtype policy of ``dtype``, a key of ``DTYPES`` or ``"auto"``; ``name`` is for the error.

    Examples
    --------
    >>> from skfer.models._inference import check_dtype
    >>> check_dtype("bfloat16")
    'mixed_bfloat16'
    """
    if dtype not in PREDICT_DTYPES:
        raise ValueError(f"{name} must be one of {list(PREDICT_DTYPES)}; got {dtype!r}.")
    return DTYPES[resolve_dtype(dtype)]


class _FoldedBatchNorm(keras.layers.Layer):
    """A Conv2D or Dense layer followed by BatchNormalization, as one affine layer.

    A convolution's kernel is scaled by BatchNorm's factors; a dense layer's
    outputs are, since its kernel is much larger than its output.

    The folded kernel and bias are computed from the two layers' variables
    at every call, so the layer always predicts with the current weights:
    it holds references to the trained layers, never copies.
    """

    def __init__(self, layer, batch_norm, **kwargs):
        super().__init__(**kwargs)
        self.layer = layer
        self.batch_norm = batch_norm

    def call(self, x):
        layer, bn = self.layer, self.batch_norm
        scale = ops.rsqrt(bn.moving_variance + bn.epsilon)
        if bn.scale:
            scale = scale * bn.gamma
        shift = -bn.moving_mean * scale
        if layer.use_bias:
            shift = shift + layer.bias * scale
        if bn.center:
            shift = shift + bn.beta
        if isinstance(layer, keras.layers.Conv2D):
            kernel = ops.cast(layer.kernel * scale, self.compute_dtype)
            y = ops.conv(
                x, kernel, strides=layer.strides, padding=layer.padding,
                dilation_rate=layer.dilation_rate,
            )
        else:
            # A dense kernel holds far more numbers than the layer's outputs
            # (the DCNN's: 410,000 against 128 a face): scaling the outputs
            # costs less than scaling the kernel at every call.
            kernel = ops.cast(layer.kernel, self.compute_dtype)
            y = ops.matmul(x, kernel) * ops.cast(scale, self.compute_dtype)
        y = y + ops.cast(shift, self.compute_dtype)
        return layer.activation(y) if layer.activation is not None else y


class _Reused(keras.layers.Layer):
    """A trained layer applied through its own ``call``: shares its weights, adds no node to it.

    Calling the layer itself on the prediction graph's tensors would add an
    inbound node to the trained model's layer, after which the model no
    longer looks like one chain of layers.
    """

    def __init__(self, layer, **kwargs):
        super().__init__(**kwargs)
        self.layer = layer

    def call(self, x):
        return self.layer.call(ops.cast(x, self.layer.compute_dtype))

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)


def _is_chain(model):
    """Whether every layer feeds only the next one (the DCNN and VGG builders), not a network with merges (a ResNet)."""
    return not any(isinstance(layer.input, (list, tuple)) for layer in model.layers[1:])


def inference_model(model, dtype="float32"):
    """A prediction graph over ``model``'s own weights: BatchNorm folded, training-only layers dropped.

    Each BatchNormalization that follows a Conv2D or Dense layer is merged
    into it, and Dropout and augmentation layers, which do nothing at
    inference, are left out. The graph shares ``model``'s variables instead
    of copying them, so it predicts with whatever weights ``model`` holds
    now, after any fit or ``set_weights``. Networks that are not a single
    chain of layers (a ResNet) are returned as they are: they predict in
    float32 (``"auto"`` included), and ``"bfloat16"`` is refused for them.

    Parameters
    ----------
    model : keras.Model
        A network built by skfer's builders.
    dtype : {"float32", "bfloat16", "auto"}, default="float32"
        Compute dtype. ``"bfloat16"`` runs every layer but the softmax
        output in bfloat16 (Keras' ``mixed_bfloat16`` policy): about twice
        as fast on CPUs with AVX512-BF16 or AMX, slower on CPUs without
        them; its probabilities differ from float32's in the third decimal.
        ``"auto"`` is bfloat16 where the CPU computes it natively, else
        float32 (:func:`resolve_dtype`).

    Returns
    -------
    keras.Model
        The prediction graph, same input and output shapes as ``model``.

    Raises
    ------
    ValueError
        For ``dtype="bfloat16"`` and a network that is not a chain.

    Examples
    --------
    >>> import numpy as np
    >>> from skfer.models import build_dcnn
    >>> from skfer.models._inference import inference_model
    >>> model = build_dcnn()
    >>> fast = inference_model(model)
    >>> faces = np.random.default_rng(0).random((2, 2304), dtype=np.float32)
    >>> bool(np.allclose(fast.predict_on_batch(faces), model.predict_on_batch(faces), atol=1e-5))
    True
    """
    if not _is_chain(model):
        if dtype == "bfloat16":
            raise ValueError(
                f"predict_dtype='bfloat16' needs a network that is one chain of layers, and "
                f"{model.name!r} has branches that merge (a ResNet): it predicts in float32. "
                "Use predict_dtype='float32' or 'int8'."
            )
        return model
    policy = check_dtype(resolve_dtype(dtype))
    layers = [layer for layer in model.layers[1:] if not isinstance(layer, _TRAINING_ONLY)]
    x = inputs = keras.Input(shape=model.input_shape[1:], name=model.layers[0].name)
    i = 0
    while i < len(layers):
        layer = layers[i]
        following = layers[i + 1] if i + 1 < len(layers) else None
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense)) and isinstance(
            following, keras.layers.BatchNormalization
        ):
            x = _FoldedBatchNorm(layer, following, dtype=policy, name=f"{layer.name}_folded")(x)
            i += 2
            continue
        if not layer.weights and layer.name != OUTPUT_LAYER:
            # A stateless layer (reshape, crop, pooling, activation) in the prediction dtype.
            x = type(layer).from_config({**layer.get_config(), "dtype": policy})(x)
        else:
            x = _Reused(layer, dtype=layer.dtype_policy, name=f"{layer.name}_shared")(x)
        i += 1
    return keras.Model(inputs, x, name=f"{model.name}_inference")


def predict_in_batches(model, X, batch_size=PREDICT_BATCH):
    """Run ``model``'s compiled predict step over ``X`` in batches padded to powers of two.

    ``keras.Model.predict`` spends milliseconds per call on its data adapter
    and callbacks, more than one face takes; ``predict_on_batch`` runs the
    compiled step without them. Padding each batch to a power of two keeps
    the number of traced shapes small.

    Parameters
    ----------
    model : keras.Model
        The network (e.g. from :func:`inference_model`).
    X : ndarray of shape (n_samples, ...)
        Model input.
    batch_size : int, default=256
        Largest batch per step.

    Returns
    -------
    ndarray of shape (n_samples, n_outputs)
        The model's outputs.

    Examples
    --------
    >>> import numpy as np
    >>> from skfer.models import build_dcnn
    >>> from skfer.models._inference import predict_in_batches
    >>> predict_in_batches(build_dcnn(), np.zeros((3, 2304), np.float32)).shape
    (3, 7)
    """
    outputs = []
    for start in range(0, len(X), batch_size):
        batch = X[start : start + batch_size]
        n = len(batch)
        padded = min(batch_size, 1 << (n - 1).bit_length())
        if padded > n:
            batch = np.concatenate([batch, np.zeros((padded - n, *batch.shape[1:]), batch.dtype)])
        output = model.predict_on_batch(batch)  # an ndarray from the int8 engine, a tensor from Keras
        outputs.append((output if isinstance(output, np.ndarray) else ops.convert_to_numpy(output))[:n])
    return np.concatenate(outputs)
