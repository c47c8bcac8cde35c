"""Training-time image augmentation as one Keras layer (identity at inference)."""

import math

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="skfer")
class RandomAffine(keras.layers.Layer):
    """Random flip, rotation, shift, shear and zoom as one resampling per image.

    The seed notebook's ``ImageDataGenerator`` composed these into a single
    affine transform; chaining Keras' separate ``Random*`` layers instead
    resamples (and blurs) a 48x48 face four times, and reads a shear of
    0.15 as an intensity rather than degrees. This layer draws one transform
    per image and applies it with ``keras.ops.image.affine_transform``, on
    every backend. It acts only when called with ``training=True``.

    Parameters
    ----------
    rotation : float, default=15.0
        Largest rotation in degrees, either way.
    shift : float, default=0.15
        Largest horizontal and vertical shift, as a fraction of the side.
    shear : float, default=0.15
        Largest shear angle in degrees, either way (``ImageDataGenerator``'s
        ``shear_range``).
    zoom : float, default=0.15
        Largest zoom in or out, as a fraction; each axis is drawn from
        ``[1 - zoom, 1 + zoom]``.
    horizontal_flip : bool, default=True
        Whether to mirror half of the images left-right.
    fill_mode : {"nearest", "constant", "reflect", "wrap", "mirror"}, default="nearest"
        How points outside the image are filled.
    seed : int, default=None
        Seed of the random transforms.
    **kwargs
        Passed to ``keras.layers.Layer``.

    Examples
    --------
    >>> import numpy as np
    >>> from skfer.models import RandomAffine
    >>> faces = np.random.default_rng(0).random((2, 48, 48, 1), dtype=np.float32)
    >>> layer = RandomAffine(seed=0)
    >>> bool(np.array_equal(layer(faces, training=False), faces))
    True
    >>> tuple(layer(faces, training=True).shape)
    (2, 48, 48, 1)
    """

    def __init__(
        self,
        rotation=15.0,
        shift=0.15,
        shear=0.15,
        zoom=0.15,
        horizontal_flip=True,
        fill_mode="nearest",
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.rotation = rotation
        self.shift = shift
        self.shear = shear
        self.zoom = zoom
        self.horizontal_flip = horizontal_flip
        self.fill_mode = fill_mode
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def _uniform(self, n, half_width, center=0.0):
        return keras.random.uniform(
            (n,), center - half_width, center + half_width, seed=self.seed_generator
        )

    def call(self, images, training=None):
        if not training:
            return images
        n = ops.shape(images)[0]
        height, width = images.shape[1], images.shape[2]
        degrees = math.pi / 180.0
        theta = self._uniform(n, self.rotation * degrees)
        shear = self._uniform(n, self.shear * degrees)
        zoom_x = self._uniform(n, self.zoom, 1.0)
        zoom_y = self._uniform(n, self.zoom, 1.0)
        shift_x = self._uniform(n, self.shift * width)
        shift_y = self._uniform(n, self.shift * height)
        flip = ops.ones((n,))
        if self.horizontal_flip:
            flip = ops.where(self._uniform(n, 0.5, 0.5) < 0.5, -1.0, 1.0)
        if not (self.rotation or self.shift or self.shear or self.zoom):
            # Mirrors only: the same pixels as the resampling below, without it (and XLA compiles it).
            return ops.where(ops.reshape(flip < 0, (-1, 1, 1, 1)), ops.flip(images, axis=2), images)
        # Output pixel p reads input pixel M (p - c) + c - shift, with
        # M = rotation @ shear @ zoom @ flip about the image centre c.
        m00 = ops.cos(theta) * zoom_x * flip
        m01 = -ops.sin(theta + shear) * zoom_y
        m10 = ops.sin(theta) * zoom_x * flip
        m11 = ops.cos(theta + shear) * zoom_y
        cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
        a2 = cx - m00 * cx - m01 * cy - shift_x
        b2 = cy - m10 * cx - m11 * cy - shift_y
        zeros = ops.zeros((n,))
        transform = ops.stack([m00, m01, a2, m10, m11, b2, zeros, zeros], axis=1)
        return ops.image.affine_transform(
            images, transform, interpolation="bilinear", fill_mode=self.fill_mode
        )

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            rotation=self.rotation,
            shift=self.shift,
            shear=self.shear,
            zoom=self.zoom,
            horizontal_flip=self.horizontal_flip,
            fill_mode=self.fill_mode,
            seed=self.seed,
        )
        return config


def augmentation_layers(
    *, rotation=15.0, shift=0.15, shear=0.15, zoom=0.15, horizontal_flip=True, seed=None
):
    """Build the FER2013 seed notebook's augmentation as Keras layers.

    The layers transform images only when called with ``training=True``
    (inside ``Model.fit``); at inference they pass images through unchanged.
    They run on every Keras backend, so augmentation needs no Python-side
    image generator.

    Parameters
    ----------
    rotation : float, default=15.0
        Largest rotation in degrees, either way.
    shift : float, default=0.15
        Largest horizontal and vertical shift, as a fraction of the image side.
    shear : float, default=0.15
        Largest shear angle in degrees, as the seed's ``ImageDataGenerator``
        read it.
    zoom : float, default=0.15
        Largest zoom in or out, as a fraction of the image side.
    horizontal_flip : bool, default=True
        Whether to mirror faces left-right at random.
    seed : int, default=None
        Seed of the random transforms.

    Returns
    -------
    list of keras.layers.Layer
        One :class:`RandomAffine` layer, or an empty list if every range is 0
        and ``horizontal_flip`` is False.

    Examples
    --------
    >>> from skfer.models import augmentation_layers
    >>> [layer.__class__.__name__ for layer in augmentation_layers(seed=0)]
    ['RandomAffine']
    >>> augmentation_layers(rotation=0, shift=0, shear=0, zoom=0, horizontal_flip=False)
    []
    """
    if not (rotation or shift or shear or zoom or horizontal_flip):
        return []
    return [
        RandomAffine(
            rotation=rotation,
            shift=shift,
            shear=shear,
            zoom=zoom,
            horizontal_flip=horizontal_flip,
            seed=seed,
        )
    ]


def crop_size(model):
    """The side of the window a network's :class:`FaceCrop` takes, or None if it has none.

    Read from the network itself, so it always matches the weights.

    Examples
    --------
    >>> from skfer.models import FaceCrop, build_dcnn, crop_size
    >>> crop_size(build_dcnn(augmentation=[FaceCrop(44)])), crop_size(build_dcnn())
    (44, None)
    """
    for layer in model.layers:
        if isinstance(layer, FaceCrop):
            return layer.size
        if getattr(layer, "layers", None):
            found = crop_size(layer)
            if found is not None:
                return found
    return None


@keras.saving.register_keras_serializable(package="skfer")
class FaceCrop(keras.layers.Layer):
    """Crop square faces: at random positions in training, at the centre at inference.

    The crop-and-flip augmentation of every FER2013 recipe above 72%
    (Pramerdorfer & Kampel 2016; Khaireddin & Chen 2021): the network learns
    on ``size`` x ``size`` windows drawn anywhere in the face and predicts on
    the central window, so the input stays a whole 48x48 face. Test-time
    augmentation reads the corner windows by shifting the face (see
    :func:`skfer.inference._tta.tta_views`).

    Parameters
    ----------
    size : int
        Side of the crop in pixels, at most the face's side.
    seed : int, default=None
        Seed of the random crop positions.
    **kwargs
        Passed to ``keras.layers.Layer``.

    Examples
    --------
    >>> import numpy as np
    >>> from skfer.models import FaceCrop
    >>> faces = np.arange(2 * 48 * 48, dtype=np.float32).reshape(2, 48, 48, 1)
    >>> layer = FaceCrop(44, seed=0)
    >>> centre = np.asarray(layer(faces, training=False))
    >>> centre.shape, bool(np.array_equal(centre, faces[:, 2:46, 2:46]))
    ((2, 44, 44, 1), True)
    >>> tuple(layer(faces, training=True).shape)
    (2, 44, 44, 1)
    """

    def __init__(self, size, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.size = size
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=None):
        height, width = images.shape[1], images.shape[2]
        size = self.size
        if not training:
            top, left = (height - size) // 2, (width - size) // 2
            return images[:, top : top + size, left : left + size, :]
        n = ops.shape(images)[0]
        top = keras.random.randint((n, 1), 0, height - size + 1, seed=self.seed_generator)
        left = keras.random.randint((n, 1), 0, width - size + 1, seed=self.seed_generator)
        steps = ops.arange(size, dtype="int32")[None, :]
        rows = ops.broadcast_to((top + steps)[:, :, None, None], (n, size, width, images.shape[3]))
        images = ops.take_along_axis(images, rows, axis=1)
        cols = ops.broadcast_to((left + steps)[:, None, :, None], (n, size, size, images.shape[3]))
        return ops.take_along_axis(images, cols, axis=2)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.size, self.size, input_shape[3])

    def get_config(self):
        config = super().get_config()
        config.update(size=self.size, seed=self.seed)
        return config


@keras.saving.register_keras_serializable(package="skfer")
class RandomErasing(keras.layers.Layer):
    """Replace a random rectangle of some faces with noise in training (random erasing).

    Random erasing (Zhong et al., AAAI 2020): each face, with probability
    ``rate``, gets one rectangle of random area and aspect ratio filled with
    uniform noise over the face's own range of values, so the network learns
    from faces partly hidden, as by a hand or glasses. It acts only when
    called with ``training=True``.

    Parameters
    ----------
    rate : float, default=0.5
        Probability that a face gets a rectangle.
    scale : tuple of float, default=(0.02, 0.33)
        Range of the rectangle's area, as a fraction of the face's; the
        sides are then rounded to whole pixels (and cut at the face's
        edges), so the area can leave this range by a row or column.
    ratio : tuple of float, default=(0.3, 3.3)
        Range of the rectangle's height over width (drawn on a log scale).
    seed : int, default=None
        Seed of the random rectangles.
    **kwargs
        Passed to ``keras.layers.Layer``.

    Examples
    --------
    >>> import numpy as np
    >>> from skfer.models import RandomErasing
    >>> faces = np.full((4, 48, 48, 1), 0.5, dtype=np.float32)
    >>> faces[:, 0, 0] = 0.0  # the range of values the noise is drawn from
    >>> layer = RandomErasing(rate=1.0, seed=0)
    >>> bool(np.array_equal(layer(faces, training=False), faces))
    True
    >>> changed = np.asarray(layer(faces, training=True)) != faces
    >>> changed.reshape(4, -1).any(axis=1).tolist()
    [True, True, True, True]
    """

    def __init__(self, rate=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate <= 1:
            raise ValueError(f"RandomErasing's rate must be in [0, 1]; got {rate!r}.")
        if len(scale) != 2 or not 0 < scale[0] <= scale[1] <= 1:
            raise ValueError(f"RandomErasing's scale must be (low, high) with 0 < low <= high <= 1; got {scale!r}.")
        if len(ratio) != 2 or not 0 < ratio[0] <= ratio[1]:
            raise ValueError(f"RandomErasing's ratio must be (low, high) with 0 < low <= high; got {ratio!r}.")
        self.rate = rate
        self.scale = tuple(scale)
        self.ratio = tuple(ratio)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def _uniform(self, shape, low=0.0, high=1.0):
        return keras.random.uniform(shape, low, high, seed=self.seed_generator)

    def call(self, images, training=None):
        if not training or not self.rate:
            return images
        n = ops.shape(images)[0]
        height, width = images.shape[1], images.shape[2]
        area = self._uniform((n,), *self.scale) * (height * width)
        ratio = ops.exp(self._uniform((n,), math.log(self.ratio[0]), math.log(self.ratio[1])))
        rect_h = ops.clip(ops.round(ops.sqrt(area * ratio)), 1, height)
        rect_w = ops.clip(ops.round(ops.sqrt(area / ratio)), 1, width)
        top = ops.floor(self._uniform((n,)) * (height - rect_h + 1))
        left = ops.floor(self._uniform((n,)) * (width - rect_w + 1))
        rows = ops.arange(height, dtype="float32")[None, :]
        cols = ops.arange(width, dtype="float32")[None, :]
        in_rows = (rows >= top[:, None]) & (rows < (top + rect_h)[:, None])
        in_cols = (cols >= left[:, None]) & (cols < (left + rect_w)[:, None])
        erased = self._uniform((n,)) < self.rate
        mask = in_rows[:, :, None, None] & in_cols[:, None, :, None] & erased[:, None, None, None]
        low = ops.min(images, axis=(1, 2, 3), keepdims=True)
        high = ops.max(images, axis=(1, 2, 3), keepdims=True)
        noise = low + ops.cast(self._uniform(ops.shape(images)), images.dtype) * (high - low)
        return ops.where(mask, noise, images)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(rate=self.rate, scale=self.scale, ratio=self.ratio, seed=self.seed)
        return config


#: Largest change of each kind at ``strength=1``: brightness and contrast factors 1 +- 0.3, the
#: weight of a sigma-1 Gaussian blur, and the standard deviation of the noise (10 of 255 levels).
_PHOTOMETRIC_RANGE = {"brightness": 0.3, "contrast": 0.3, "blur": 1.0, "noise": 10 / 255}


def _gaussian_kernel(sigma=1.0, radius=2):
    """A normalized 2-D Gaussian kernel of shape (2 * radius + 1, 2 * radius + 1, 1, 1)."""
    taps = [math.exp(-(i * i) / (2 * sigma * sigma)) for i in range(-radius, radius + 1)]
    kernel = [[a * b for b in taps] for a in taps]
    total = sum(map(sum, kernel))
    return ops.reshape(ops.convert_to_tensor(kernel, dtype="float32") / total, (2 * radius + 1, 2 * radius + 1, 1, 1))


@keras.saving.register_keras_serializable(package="skfer")
class RandomPhotometric(keras.layers.Layer):
    """Random brightness, contrast, blur and noise for each face in training.

    Faces are photographed in other light, focus and sensors than FER2013's:
    each training face gets, in this order, a brightness factor and a
    contrast factor drawn from ``1 +- 0.3 * strength``, a mix with its
    Gaussian blur (sigma 1) weighted by a draw from ``[0, strength]``, and
    Gaussian noise whose standard deviation is drawn from ``[0, 10 / 255 *
    strength]`` of ``value_range``; the result is clipped to
    ``value_range``. At ``strength=1`` the largest changes are the shifts
    of ``benchmarks/robustness.py``. It acts only when called with
    ``training=True``.

    Parameters
    ----------
    strength : float, default=1.0
        Scale of every change; 0 leaves faces as they are.
    value_range : tuple of float, default=(0.0, 1.0)
        Black and white in the layer's input (FERClassifier's input after
        ``PixelNormalizer(method="scale")``).
    seed : int, default=None
        Seed of the random draws.
    **kwargs
        Passed to ``keras.layers.Layer``.

    Examples
    --------
    >>> import numpy as np
    >>> from skfer.models import RandomPhotometric
    >>> faces = np.random.default_rng(0).random((4, 48, 48, 1), dtype=np.float32)
    >>> layer = RandomPhotometric(strength=1.0, seed=0)
    >>> bool(np.array_equal(layer(faces, training=False), faces))
    True
    >>> out = np.asarray(layer(faces, training=True))
    >>> bool((out != faces).any()), float(out.min()) >= 0.0, float(out.max()) <= 1.0
    (True, True, True)
    """

    def __init__(self, strength=1.0, value_range=(0.0, 1.0), seed=None, **kwargs):
        super().__init__(**kwargs)
        if not strength >= 0:
            raise ValueError(f"RandomPhotometric's strength must be >= 0; got {strength!r}.")
        if len(value_range) != 2 or not value_range[0] < value_range[1]:
            raise ValueError(f"RandomPhotometric's value_range must be (black, white), black < white; got {value_range!r}.")
        self.strength = strength
        self.value_range = tuple(value_range)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def _draw(self, n, low, high):
        """One uniform draw per face from [low, high], shaped to broadcast over its pixels."""
        return keras.random.uniform((n, 1, 1, 1), low, high, seed=self.seed_generator)

    def call(self, images, training=None):
        if not training or not self.strength:
            return images
        n, s = ops.shape(images)[0], self.strength
        black, white = self.value_range
        x = ops.cast(images, "float32")
        brightness, contrast = _PHOTOMETRIC_RANGE["brightness"] * s, _PHOTOMETRIC_RANGE["contrast"] * s
        x = black + (x - black) * self._draw(n, 1 - brightness, 1 + brightness)
        mean = ops.mean(x, axis=(1, 2, 3), keepdims=True)
        x = mean + (x - mean) * self._draw(n, 1 - contrast, 1 + contrast)
        weight = ops.minimum(self._draw(n, 0.0, _PHOTOMETRIC_RANGE["blur"] * s), 1.0)
        x = x + (ops.conv(x, _gaussian_kernel(), padding="same") - x) * weight
        sigma = self._draw(n, 0.0, _PHOTOMETRIC_RANGE["noise"] * s) * (white - black)
        x = x + keras.random.normal(ops.shape(x), seed=self.seed_generator) * sigma
        return ops.cast(ops.clip(x, black, white), images.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(strength=self.strength, value_range=self.value_range, seed=self.seed)
        return config
