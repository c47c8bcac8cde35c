"""A CIFAR-style residual network for FER2013 faces, as a pure Keras 3 builder."""

import keras

from ._blocks import batch_norm
from ._dcnn import OUTPUT_LAYER, _per_block
from ._input import image_input
from ._seeds import LayerSeeds


def _conv_bn(x, n_filters, size, strides, kernel_initializer, seeds, dtype, name):
    x = keras.layers.Conv2D(
        n_filters, size, strides=strides, padding="same", use_bias=False,
        kernel_initializer=seeds.initializer(kernel_initializer), dtype=dtype, name=f"conv{name}",
    )(x)
    return batch_norm(dtype, f"bn{name}")(x)


def build_resnet(
    n_classes=7,
    *,
    filters=(32, 64, 128, 256),
    residual_units=2,
    dropout=0.0,
    dense_dropout=0.0,
    activation="relu",
    kernel_initializer="he_normal",
    augmentation=(),
    dtype=None,
    seed=None,
    name="resnet",
):
    """Build a CIFAR-style ResNet for 48x48 grayscale faces (not compiled).

    The ResNet-18 layout for small images (He et al. 2016, as trained on
    CIFAR-10): a 3x3 convolution stem without max-pooling, then blocks of
    ``residual_units`` basic residual units (two 3x3 convolutions with
    BatchNormalization, added to a shortcut, then the activation). The first
    unit of every block but the first halves the image side (stride 2) and
    its shortcut is a 1x1 convolution with BatchNormalization. After the
    blocks: global average pool, Dropout and the softmax layer.

    The defaults are ResNet-18 at half width, 2,801,063 parameters for 7
    classes (11.2 MB in float32); ``filters=(64, 128, 256, 512)`` is the
    full-width ResNet-18, 11.2 million parameters (44.7 MB).

    Layers are named as in :func:`build_dcnn`, so that a block is
    addressable: block ``b`` (from 1 at the input) holds the convolutions
    ``conv{b}_{i}`` and their BatchNormalizations ``bn{b}_{i}``. ``i = 0``
    is the block's entry: the stem in block 1, the 1x1 shortcut of the
    first unit in the others. Residual unit ``u`` of block ``b`` has
    ``conv{b}_{2u-1}``, ``act{b}_{2u-1}``, ``conv{b}_{2u}``, the addition
    ``add{b}_{u}`` and the activation after it, ``act{b}_{2u}``. Each block
    ends with ``drop{b}``; then come ``gap``, ``drop_dense`` and the output
    layer :data:`OUTPUT_LAYER`. Freezing block ``b`` means freezing the
    layers whose names start with ``conv{b}_`` and ``bn{b}_``.

    Parameters
    ----------
    n_classes : int, default=7
        Number of output classes.
    filters : sequence of int, default=(32, 64, 128, 256)
        Filters of the convolutions in each block; its length sets the number
        of blocks. The stem has ``filters[0]`` filters.
    residual_units : int or sequence of int, default=2
        Residual units in each block (or one number for all blocks); 2 in
        each of 4 blocks makes the 18 layers of ResNet-18.
    dropout : float or sequence of float, default=0.0
        Dropout rate after each block (or one rate for all blocks).
    dense_dropout : float, default=0.0
        Dropout rate before the output layer.
    activation : str, default="relu"
        Activation after the stem, inside each unit and after each addition.
    kernel_initializer : str, default="he_normal"
        Initializer of every convolution kernel.
    augmentation : sequence of keras.layers.Layer, default=()
        Layers applied to the 48x48x1 image before the stem, e.g.
        :class:`RandomAffine` and :class:`FaceCrop` (any image side works).
    dtype : str or keras.DTypePolicy, default=None
        Dtype policy of every layer but the augmentation and the softmax
        output, e.g. ``"mixed_bfloat16"``; None uses Keras' global policy.
    seed : int, default=None
        Seed of the weights' initializers and the dropout masks, so that a
        build never draws from Python's global generator; None leaves them
        to Keras.
    name : str, default="resnet"
        Name of the Keras model.

    Returns
    -------
    keras.Model
        The uncompiled model, input shape (2304,), softmax output (n_classes,).

    See Also
    --------
    build_dcnn : The seed notebook's smaller network, same conventions.
    build_vgg : A VGG-style network, same conventions.

    Examples
    --------
    >>> from skfer.models import build_resnet
    >>> model = build_resnet()
    >>> model.count_params()
    2801063
    >>> tuple(model.get_layer("conv2_0").kernel.shape)  # block 2's shortcut
    (1, 1, 32, 64)
    >>> build_resnet(filters=(64, 128, 256, 512)).count_params()
    11180871
    """
    n_blocks = len(filters)
    residual_units = _per_block(residual_units, n_blocks, "residual_units")
    dropout = _per_block(dropout, n_blocks, "dropout")
    seeds = LayerSeeds(seed)
    init = dict(kernel_initializer=kernel_initializer, seeds=seeds, dtype=dtype)
    inputs, x = image_input(augmentation)
    x = _conv_bn(x, filters[0], 3, 1, name="1_0", **init)
    x = keras.layers.Activation(activation, dtype=dtype, name="act1_0")(x)
    for block, (n_filters, units, rate) in enumerate(zip(filters, residual_units, dropout), 1):
        for unit in range(1, units + 1):
            strides = 2 if block > 1 and unit == 1 else 1
            first, second = f"{block}_{2 * unit - 1}", f"{block}_{2 * unit}"
            shortcut = x
            if strides != 1 or x.shape[-1] != n_filters:
                shortcut = _conv_bn(x, n_filters, 1, strides, name=f"{block}_0", **init)
            x = _conv_bn(x, n_filters, 3, strides, name=first, **init)
            x = keras.layers.Activation(activation, dtype=dtype, name=f"act{first}")(x)
            x = _conv_bn(x, n_filters, 3, 1, name=second, **init)
            x = keras.layers.Add(dtype=dtype, name=f"add{block}_{unit}")([x, shortcut])
            x = keras.layers.Activation(activation, dtype=dtype, name=f"act{second}")(x)
        x = keras.layers.Dropout(rate, seed=seeds.next(), dtype=dtype, name=f"drop{block}")(x)
    x = keras.layers.GlobalAveragePooling2D(dtype=dtype, name="gap")(x)
    x = keras.layers.Dropout(dense_dropout, seed=seeds.next(), dtype=dtype, name="drop_dense")(x)
    outputs = keras.layers.Dense(
        n_classes, activation="softmax", kernel_initializer=seeds.initializer("glorot_uniform"),
        name=OUTPUT_LAYER,
    )(x)
    return keras.Model(inputs, outputs, name=name)
