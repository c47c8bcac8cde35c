"""Training-time image augmentation as Keras layers (identity at inference)."""

import keras


@keras.saving.register_keras_serializable(package="skfer")
class RandomShear(keras.layers.RandomShear):
    """Keras' ``RandomShear`` that can be saved and loaded again.

    Keras 3.15's layer writes a factor ``f`` to its config as ``[-f, f]`` and
    then refuses that value when the model is loaded; this subclass writes
    the factors it was given.

    Parameters
    ----------
    x_factor, y_factor : float, default=0.0
        Largest horizontal and vertical shear intensity, either way.
    **kwargs
        Passed to ``keras.layers.RandomShear``.

    Examples
    --------
    >>> from skfer.models._augmentation import RandomShear
    >>> RandomShear(0.15, 0.15).get_config()["x_factor"]
    0.15
    """

    def __init__(self, x_factor=0.0, y_factor=0.0, **kwargs):
        super().__init__(x_factor, y_factor, **kwargs)
        self._factors = (x_factor, y_factor)

    def get_config(self):
        config = super().get_config()
        config["x_factor"], config["y_factor"] = self._factors
        return config


def augmentation_layers(
    *, rotation=15.0, shift=0.15, shear=0.15, zoom=0.15, horizontal_flip=True, seed=None
):
    """Build the FER2013 seed notebook's augmentation as Keras preprocessing layers.

    The layers transform images only when called with ``training=True`` (inside
    ``Model.fit``); at inference they pass images through unchanged. They run on
    every Keras backend, so augmentation needs no Python-side image generator.

    Parameters
    ----------
    rotation : float, default=15.0
        Largest rotation in degrees, either way.
    shift : float, default=0.15
        Largest horizontal and vertical shift, as a fraction of the image side.
    shear : float, default=0.15
        Largest shear intensity, either way, in both directions (Keras'
        ``RandomShear`` factor). The seed's ``ImageDataGenerator`` read 0.15 as
        degrees, a much weaker shear.
    zoom : float, default=0.15
        Largest zoom in or out, as a fraction of the image side.
    horizontal_flip : bool, default=True
        Whether to mirror faces left-right at random.
    seed : int, default=None
        Seed of the first layer; layer ``i`` uses ``seed + i``.

    Returns
    -------
    list of keras.layers.Layer
        The active augmentation layers, in the order they are applied; empty
        if every range is 0 and ``horizontal_flip`` is False.

    Examples
    --------
    >>> from skfer.models import augmentation_layers
    >>> [layer.__class__.__name__ for layer in augmentation_layers(seed=0)]
    ['RandomFlip', 'RandomRotation', 'RandomTranslation', 'RandomShear', 'RandomZoom']
    """
    wanted = [
        (horizontal_flip, lambda s: keras.layers.RandomFlip("horizontal", seed=s)),
        (rotation, lambda s: keras.layers.RandomRotation(rotation / 360.0, fill_mode="nearest", seed=s)),
        (shift, lambda s: keras.layers.RandomTranslation(shift, shift, fill_mode="nearest", seed=s)),
        (shear, lambda s: RandomShear(shear, shear, fill_mode="nearest", seed=s)),
        (zoom, lambda s: keras.layers.RandomZoom(zoom, zoom, fill_mode="nearest", seed=s)),
    ]
    layers = []
    for active, make in wanted:
        if active:
            layers.append(make(None if seed is None else seed + len(layers)))
    if keras.backend.backend() == "jax":
        # Keras marks its random image layers non-jittable (a limit of TensorFlow's
        # XLA); on JAX they are plain array code, and left eager every training
        # step runs about 100x slower on a GPU.
        for layer in layers:
            layer.supports_jit = True
    return layers
