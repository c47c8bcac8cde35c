"""FERClassifier's training-time augmentation as one parameter: a spec of what each training face may undergo."""

from numbers import Integral, Real

from sklearn.base import BaseEstimator
from .._validation import Interval, check_params

from .._constants import IMAGE_SIZE
from ..models import FaceCrop, RandomErasing, RandomPhotometric, augmentation_layers
from ..models._seeds import LayerSeeds


class Augmentation(BaseEstimator):
    """What FERClassifier does to each training face, as one parameter (``augmentation``).

    The layers it makes act in training only; at inference they pass faces
    through, except the crop, which takes the central window. The defaults
    are those of the best recipe measured on FER2013 (flips and random
    44-pixel crops; the runs in ``benchmarks/results``).
    ``FERClassifier(augmentation__rotation=15)`` sets one setting and keeps
    the others; ``GridSearchCV`` sweeps them by those names.

    Parameters
    ----------
    horizontal_flip : bool, default=True
        Mirror half of the faces left-right.
    crop_size : int or None, default=44
        The network sees ``crop_size`` x ``crop_size`` windows of each face:
        at random positions in training, the central one at inference (and
        in ``tta``). None: the whole face.
    rotation : float, default=0.0
        Largest rotation in degrees, either way.
    shift : float, default=0.0
        Largest shift, as a fraction of the side.
    shear : float, default=0.0
        Largest shear angle in degrees.
    zoom : float, default=0.0
        Largest zoom in or out, as a fraction of the side (0.2: framing from
        0.8 to 1.2 of FER2013's).
    photometric : float, default=0.0
        Strength of random brightness, contrast, blur and noise
        (:class:`skfer.models.RandomPhotometric`; 1.0 reaches the robustness
        benchmark's shifts). Needs faces scaled to [0, 1].
    erasing : float, default=0.0
        Probability that a face gets a random rectangle (2-33% of its area)
        replaced by noise (:class:`skfer.models.RandomErasing`).

    Examples
    --------
    >>> from skfer import Augmentation
    >>> [type(layer).__name__ for layer in Augmentation(rotation=15).layers(seed=0)]
    ['RandomAffine', 'FaceCrop']
    >>> Augmentation(horizontal_flip=False, crop_size=None).layers()
    []
    """

    _parameter_constraints = {
        "horizontal_flip": ["boolean"],
        "crop_size": [Interval(Integral, 8, IMAGE_SIZE, closed="both"), None],
        "rotation": [Interval(Real, 0, 180, closed="both")],
        "shift": [Interval(Real, 0, 1, closed="left")],
        "shear": [Interval(Real, 0, 90, closed="left")],
        "zoom": [Interval(Real, 0, 1, closed="left")],
        "photometric": [Interval(Real, 0, None, closed="left")],
        "erasing": [Interval(Real, 0, 1, closed="both")],
    }

    def __init__(self, *, horizontal_flip=True, crop_size=44, rotation=0.0, shift=0.0, shear=0.0,
                 zoom=0.0, photometric=0.0, erasing=0.0):
        self.horizontal_flip = horizontal_flip
        self.crop_size = crop_size
        self.rotation = rotation
        self.shift = shift
        self.shear = shear
        self.zoom = zoom
        self.photometric = photometric
        self.erasing = erasing

    def check(self):
        """Raise a ValueError naming the first setting out of its range; return ``self``."""
        check_params(self.get_params(deep=False), self._parameter_constraints, type(self).__name__)
        return self

    def layers(self, seed=None):
        """The Keras layers of this augmentation, each drawing from a stream of its own.

        Parameters
        ----------
        seed : int, default=None
            The network's seed; each layer's is derived from it.

        Returns
        -------
        list of keras.layers.Layer
            In the order they act: flip and affine transform, crop,
            photometric changes, erasing.
        """
        self.check()
        # Equal seeds would give two layers the same random numbers.
        seeds = LayerSeeds(None if seed is None else f"augmentation {seed}")
        layers = augmentation_layers(rotation=self.rotation, shift=self.shift, shear=self.shear,
                                     zoom=self.zoom, horizontal_flip=self.horizontal_flip,
                                     seed=seeds.next())
        if self.crop_size is not None:
            layers.append(FaceCrop(self.crop_size, seed=seeds.next(), name="crop"))
        if self.photometric:
            layers.append(RandomPhotometric(self.photometric, seed=seeds.next(), name="photometric"))
        if self.erasing:
            layers.append(RandomErasing(self.erasing, seed=seeds.next(), name="erasing"))
        return layers
