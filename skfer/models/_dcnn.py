"""The FER2013 seed notebook's deep CNN, as a pure Keras 3 builder."""

import keras

from .._constants import IMAGE_SIZE, N_PIXELS
from ._blocks import batch_norm
from ._seeds import LayerSeeds

#: Name of the softmax output layer, the part a new set of classes replaces.
OUTPUT_LAYER = "emotion"


def _per_block(value, n_blocks, name):
    values = tuple(value) if isinstance(value, (list, tuple)) else (value,) * n_blocks
    if len(values) != n_blocks:
        raise ValueError(f"{name} needs one value per conv block ({n_blocks}); got {value!r}.")
    return values


def build_dcnn(
    n_classes=7,
    *,
    filters=(32, 64, 128),
    kernel_sizes=3,
    convs_per_block=2,
    dropout=(0.1, 0.2, 0.3),
    dense_units=128,
    dense_dropout=0.3,
    activation="relu",
    kernel_initializer="he_normal",
    augmentation=(),
    dtype=None,
    seed=None,
    name="dcnn",
):
    """Build the FER2013 seed notebook's DCNN for 48x48 grayscale faces (not compiled).

    Each conv block is ``convs_per_block`` times [Conv2D ('same' padding) ->
    BatchNormalization -> activation], then MaxPool 2x2 and Dropout. After the
    blocks: Flatten, Dense -> BatchNormalization -> activation -> Dropout, and
    a softmax layer. The defaults are skfer's default network (879,591
    parameters for 7 classes on whole faces): the seed's with 3x3 kernels, ReLU and light
    dropout, which measured best on FER2013 (``benchmarks/results``). The
    seed's own network (896,487 parameters) is ``build_dcnn(kernel_sizes=(5,
    3, 3), dropout=(0.4, 0.4, 0.5), dense_dropout=0.6, activation="elu")``.

    The model takes flattened faces of shape (n, 2304) and reshapes them to
    (48, 48, 1) itself, so it reads the same arrays as scikit-learn estimators.

    Parameters
    ----------
    n_classes : int, default=7
        Number of output classes.
    filters : sequence of int, default=(32, 64, 128)
        Filters of the convolutions in each block; its length sets the number
        of blocks.
    kernel_sizes : int or sequence of int, default=3
        Kernel side per block (or one for all blocks).
    convs_per_block : int, default=2
        Convolutions in each block.
    dropout : float or sequence of float, default=(0.1, 0.2, 0.3)
        Dropout rate after each block (or one rate for all blocks).
    dense_units : int, default=128
        Units of the hidden dense layer.
    dense_dropout : float, default=0.3
        Dropout rate after the hidden dense layer.
    activation : str, default="relu"
        Activation of every hidden layer.
    kernel_initializer : str, default="he_normal"
        Initializer of every convolution and dense kernel.
    augmentation : sequence of keras.layers.Layer, default=()
        Layers applied to the image before the first block, e.g. from
        :func:`augmentation_layers`; they act only in training.
    dtype : str or keras.DTypePolicy, default=None
        Dtype policy of every layer but the augmentation and the softmax
        output, e.g. ``"mixed_bfloat16"`` (bfloat16 compute, float32
        weights); None uses Keras' global policy.
    seed : int, default=None
        Seed of the weights' initializers and the dropout masks, so that a
        build never draws from Python's global generator; None leaves them
        to Keras.
    name : str, default="dcnn"
        Name of the Keras model.

    Returns
    -------
    keras.Model
        The uncompiled model, input shape (2304,), softmax output (n_classes,).

    Examples
    --------
    >>> from skfer.models import build_dcnn
    >>> build_dcnn().count_params()
    879591
    >>> build_dcnn(kernel_sizes=(5, 3, 3), activation="elu").count_params()
    896487
    """
    n_blocks = len(filters)
    kernel_sizes = _per_block(kernel_sizes, n_blocks, "kernel_sizes")
    dropout = _per_block(dropout, n_blocks, "dropout")
    seeds = LayerSeeds(seed)
    inputs = keras.Input(shape=(N_PIXELS,), name="pixels")
    x = keras.layers.Reshape((IMAGE_SIZE, IMAGE_SIZE, 1), name="image")(inputs)
    for layer in augmentation:
        x = layer(x)
    for block, (n_filters, size, rate) in enumerate(zip(filters, kernel_sizes, dropout), 1):
        for conv in range(1, convs_per_block + 1):
            x = keras.layers.Conv2D(
                n_filters, size, padding="same", kernel_initializer=seeds.initializer(kernel_initializer),
                dtype=dtype, name=f"conv{block}_{conv}",
            )(x)
            x = batch_norm(dtype, f"bn{block}_{conv}")(x)
            x = keras.layers.Activation(activation, dtype=dtype, name=f"act{block}_{conv}")(x)
        x = keras.layers.MaxPooling2D(2, dtype=dtype, name=f"pool{block}")(x)
        x = keras.layers.Dropout(rate, seed=seeds.next(), dtype=dtype, name=f"drop{block}")(x)
    x = keras.layers.Flatten(dtype=dtype, name="flatten")(x)
    x = keras.layers.Dense(
        dense_units, kernel_initializer=seeds.initializer(kernel_initializer), dtype=dtype,
        name="dense"
    )(x)
    x = batch_norm(dtype, "bn_dense")(x)
    x = keras.layers.Activation(activation, dtype=dtype, name="act_dense")(x)
    x = keras.layers.Dropout(dense_dropout, seed=seeds.next(), dtype=dtype, name="drop_dense")(x)
    outputs = keras.layers.Dense(
        n_classes, activation="softmax", kernel_initializer=seeds.initializer("glorot_uniform"),
        name=OUTPUT_LAYER,
    )(x)
    return keras.Model(inputs, outputs, name=name)
