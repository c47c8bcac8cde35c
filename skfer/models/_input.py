"""The input end that every skfer network shares: flat faces in, augmented images out."""

import keras

from .._constants import IMAGE_SIZE, N_PIXELS


def image_input(augmentation=()):
    """Input of flattened faces and the augmented image tensor the network starts from.

    Parameters
    ----------
    augmentation : sequence of keras.layers.Layer, default=()
        Layers applied in order to the (48, 48, 1) image.

    Returns
    -------
    inputs : KerasTensor
        The model input, ``pixels``, of shape (None, 2304).
    image : KerasTensor
        The face reshaped to (48, 48, 1) (layer ``image``), after the
        augmentation layers.

    Examples
    --------
    >>> from skfer.models import FaceCrop
    >>> from skfer.models._input import image_input
    >>> inputs, image = image_input([FaceCrop(44)])
    >>> inputs.shape, image.shape
    ((None, 2304), (None, 44, 44, 1))
    """
    inputs = keras.Input(shape=(N_PIXELS,), name="pixels")
    x = keras.layers.Reshape((IMAGE_SIZE, IMAGE_SIZE, 1), name="image")(inputs)
    for layer in augmentation:
        x = layer(x)
    return inputs, x
