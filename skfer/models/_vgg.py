"""A VGG-style network for FER2013 faces, as a pure Keras 3 builder."""

import keras

from ._blocks import batch_norm
from ._dcnn import OUTPUT_LAYER, _per_block
from ._input import image_input
from ._seeds import LayerSeeds


def build_vgg(
    n_classes=7,
    *,
    filters=(64, 128, 256, 512),
    convs_per_block=2,
    dropout=0.0,
    dense_dropout=0.2,
    activation="relu",
    kernel_initializer="he_normal",
    augmentation=(),
    dtype=None,
    seed=None,
    name="vgg",
):
    """Build a VGG-style network for 48x48 grayscale faces (not compiled).

    The network of Khaireddin & Chen (2021, "Facial Emotion Recognition:
    State of the Art Performance on FER2013", 73.28% on the FER2013 test
    split) with a lighter head: four blocks of ``convs_per_block`` times
    [Conv2D 3x3 ('same' padding, no bias) -> BatchNormalization ->
    activation], each followed by MaxPool 2x2 and Dropout, then a global
    average pool, Dropout and the softmax layer (the paper's two 4096-unit
    dense layers would add 25 million weights). With the defaults it has
    4,693,575 parameters for 7 classes, 18.8 MB in float32.

    Layers are named as in :func:`build_dcnn`: block ``b`` (from 1 at the
    input) holds ``conv{b}_{i}``, ``bn{b}_{i}`` and ``act{b}_{i}`` for
    ``i = 1 .. convs_per_block``, then ``pool{b}`` and ``drop{b}``; after the
    blocks come ``gap``, ``drop_dense`` and the output layer
    :data:`OUTPUT_LAYER`. Freezing block ``b`` means freezing the layers
    whose names start with ``conv{b}_`` and ``bn{b}_``.

    Parameters
    ----------
    n_classes : int, default=7
        Number of output classes.
    filters : sequence of int, default=(64, 128, 256, 512)
        Filters of the convolutions in each block; its length sets the number
        of blocks.
    convs_per_block : int, default=2
        Convolutions in each block.
    dropout : float or sequence of float, default=0.0
        Dropout rate after each block (or one rate for all blocks).
    dense_dropout : float, default=0.2
        Dropout rate before the output layer (the paper's rate).
    activation : str, default="relu"
        Activation after each BatchNormalization.
    kernel_initializer : str, default="he_normal"
        Initializer of every convolution kernel.
    augmentation : sequence of keras.layers.Layer, default=()
        Layers applied to the 48x48x1 image before the first block, e.g.
        :class:`RandomAffine` and :class:`FaceCrop` (the blocks take any
        image side: 48, 44, 40).
    dtype : str or keras.DTypePolicy, default=None
        Dtype policy of every layer but the augmentation and the softmax
        output, e.g. ``"mixed_bfloat16"``; None uses Keras' global policy.
    seed : int, default=None
        Seed of the weights' initializers and the dropout masks, so that a
        build never draws from Python's global generator; None leaves them
        to Keras.
    name : str, default="vgg"
        Name of the Keras model.

    Returns
    -------
    keras.Model
        The uncompiled model, input shape (2304,), softmax output (n_classes,).

    See Also
    --------
    build_dcnn : The seed notebook's smaller network, same conventions.
    build_resnet : A CIFAR-style residual network, same conventions.

    Examples
    --------
    >>> from skfer.models import build_vgg
    >>> model = build_vgg()
    >>> model.count_params()
    4693575
    >>> model.output_shape
    (None, 7)
    >>> tuple(build_vgg(filters=(8, 16), dropout=0.1).get_layer("conv2_2").kernel.shape)
    (3, 3, 16, 16)
    """
    dropout = _per_block(dropout, len(filters), "dropout")
    seeds = LayerSeeds(seed)
    inputs, x = image_input(augmentation)
    for block, (n_filters, rate) in enumerate(zip(filters, dropout), 1):
        for conv in range(1, convs_per_block + 1):
            x = keras.layers.Conv2D(
                n_filters, 3, padding="same", use_bias=False,
                kernel_initializer=seeds.initializer(kernel_initializer), dtype=dtype,
                name=f"conv{block}_{conv}",
            )(x)
            x = batch_norm(dtype, f"bn{block}_{conv}")(x)
            x = keras.layers.Activation(activation, dtype=dtype, name=f"act{block}_{conv}")(x)
        x = keras.layers.MaxPooling2D(2, dtype=dtype, name=f"pool{block}")(x)
        x = keras.layers.Dropout(rate, seed=seeds.next(), dtype=dtype, name=f"drop{block}")(x)
    x = keras.layers.GlobalAveragePooling2D(dtype=dtype, name="gap")(x)
    x = keras.layers.Dropout(dense_dropout, seed=seeds.next(), dtype=dtype, name="drop_dense")(x)
    outputs = keras.layers.Dense(
        n_classes, activation="softmax", kernel_initializer=seeds.initializer("glorot_uniform"),
        name=OUTPUT_LAYER,
    )(x)
    return keras.Model(inputs, outputs, name=name)
