"""The networks skfer can build, by name, and what one forward pass costs."""

import math

import keras

from ._dcnn import build_dcnn
from ._resnet import build_resnet
from ._vgg import build_vgg

#: Builder of each architecture by name. Every builder takes ``n_classes`` and
#: the keywords ``filters``, ``dropout``, ``dense_dropout``, ``activation``,
#: ``kernel_initializer``, ``augmentation``, ``dtype`` and ``name``.
ARCHITECTURES = {"dcnn": build_dcnn, "vgg": build_vgg, "resnet": build_resnet}

_CONVOLUTIONS = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)


def _layers(model):
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _layers(layer)
        else:
            yield layer


def flops_per_image(model):
    """Floating-point operations of one image's forward pass at inference.

    Counts the multiply-adds of the convolution and dense layers from their
    kernel and output shapes, two operations each (a multiply and an add);
    biases, normalization, activations and pooling, a few percent of the
    total, are left out. Shapes are those of the inference graph, so a
    :class:`FaceCrop` layer counts with its crop size.

    Parameters
    ----------
    model : keras.Model
        A built model, e.g. from one of :data:`ARCHITECTURES`; nested models
        are counted too.

    Returns
    -------
    int
        Operations per image (twice the multiply-adds).

    Examples
    --------
    One block of two 3x3 convolutions with 4 filters on the 48x48 face, a
    2x2 max-pool, a dense layer of 8 units and a softmax of 2:

    >>> from skfer.models import build_dcnn, flops_per_image
    >>> model = build_dcnn(2, filters=(4,), kernel_sizes=3, dropout=0.1, dense_units=8)
    >>> by_hand = 48 * 48 * 3 * 3 * (1 * 4 + 4 * 4) + 24 * 24 * 4 * 8 + 8 * 2
    >>> flops_per_image(model) == 2 * by_hand
    True
    """
    multiply_adds = 0
    for layer in _layers(model):
        if isinstance(layer, (*_CONVOLUTIONS, keras.layers.Dense)):
            positions = math.prod(layer.output.shape[1:-1])
            multiply_adds += positions * math.prod(layer.kernel.shape)
    return 2 * multiply_adds
