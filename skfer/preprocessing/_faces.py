"""Find faces in photos and crop them to FER2013's 48x48 grayscale format."""

import functools
import math
import warnings
from numbers import Integral, Real
from os import PathLike
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions

from .._constants import IMAGE_SIZE, N_PIXELS, PIXEL_MAX

_HAAR_FILE = "haarcascade_frontalface_default.xml"
_GRAY_FROM = {3: cv2.COLOR_RGB2GRAY, 4: cv2.COLOR_RGBA2GRAY}


class Face(NamedTuple):
    """One face found by :class:`FaceDetector`.

    Attributes
    ----------
    source : int
        Index of the image in the ``X`` given to :meth:`FaceDetector.detect`.
    name : str
        The image's path, or ``"image <source>"`` for an array.
    box : tuple of int
        The face as ``(x, y, w, h)`` in pixels of the source image, as the
        detector found it (before the margin); the whole image for faces
        that were already 48x48.
    image : ndarray of shape (48, 48), dtype uint8
        The grayscale crop, margin included, resized like FER2013 faces.

    Examples
    --------
    >>> import numpy as np
    >>> from skfer.preprocessing import FaceDetector
    >>> face = FaceDetector().detect([np.zeros((48, 48), dtype=np.uint8)])[0]
    >>> face.source, face.name, face.box, face.image.shape
    (0, 'image 0', (0, 0, 48, 48), (48, 48))
    """

    source: int
    name: str
    box: tuple
    image: np.ndarray


@functools.cache
def _haar_cascade():
    """OpenCV's frontal-face Haar cascade, shipped inside the opencv package."""
    path = Path(cv2.data.haarcascades) / _HAAR_FILE
    has_cascades = hasattr(cv2, "CascadeClassifier")  # OpenCV 5 moved them out
    cascade = cv2.CascadeClassifier(str(path)) if has_cascades else None
    if cascade is None or cascade.empty():
        raise RuntimeError(
            f"OpenCV's Haar cascade {path} is missing; it ships with opencv-python-headless 4.x "
            "(OpenCV 5 no longer includes it). Install opencv-python-headless<5 or pass a "
            "callable detector."
        )
    return cascade


class _UnreadableFileError(ValueError):
    """A file that does not exist or that OpenCV cannot decode."""


def _read_bgr(path):
    """Read an image file as 8-bit BGR (OpenCV's channel order), or raise naming it."""
    path = Path(path)
    if not path.is_file():
        raise _UnreadableFileError(f"Image file {str(path)!r} does not exist.")
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise _UnreadableFileError(f"File {str(path)!r} is not an image OpenCV can read.")
    return image


def _to_gray(image, name="The image"):
    """Convert a gray, RGB or RGBA array (uint8, or float in [0, 1]) to grayscale uint8."""
    image = np.asarray(image)
    channels = image.shape[2] if image.ndim == 3 else None
    if image.ndim not in (2, 3) or channels not in (None, 1, 3, 4) or 0 in image.shape:
        raise ValueError(
            f"{name} has shape {image.shape}; an image must be gray (H, W) or (H, W, 1), "
            "RGB (H, W, 3) or RGBA (H, W, 4)."
        )
    if image.dtype.kind == "f":
        if not (np.isfinite(image).all() and image.min() >= 0 and image.max() <= 1):
            raise ValueError(
                f"{name} is a float image with values outside [0, 1]; scale it to [0, 1] "
                "or pass uint8 values 0-255."
            )
        image = np.rint(image * PIXEL_MAX)
    elif image.dtype.kind in "ui":
        if image.min() < 0 or image.max() > PIXEL_MAX:
            raise ValueError(f"{name} has integer values outside 0-{int(PIXEL_MAX)}.")
    else:
        raise ValueError(f"{name} has dtype {image.dtype}; images must hold numbers.")
    image = image.astype(np.uint8)
    if channels in _GRAY_FROM:
        return cv2.cvtColor(image, _GRAY_FROM[channels])
    return image.reshape(image.shape[:2])


def _name(item, index):
    return str(item) if isinstance(item, (str, PathLike)) else f"image {index}"


def _items(X):
    """Split ``X`` into images: a list of paths/arrays, or an array of shape (n, H, W[, C])."""
    if isinstance(X, (str, PathLike)):
        raise ValueError(
            f"X must be a list of images or image paths; got the single path {str(X)!r}. "
            "Wrap it in a list."
        )
    if isinstance(X, np.ndarray) and X.ndim not in (3, 4):
        raise ValueError(
            f"An array X must hold images, with shape (n, H, W) or (n, H, W, C); got {X.shape}."
        )
    return list(X)


class FaceDetector(TransformerMixin, BaseEstimator):
    """Find faces in photos and turn each into a 48x48 FER2013-style face.

    Each image is converted to grayscale and searched for faces; each face
    is cropped as a square of side ``max(w, h) * (1 + 2 * margin)`` centred
    on the detector's box (clipped to the image) and resized to 48x48 with
    ``cv2.INTER_AREA``. The output has one row per face (not per image), with
    pixel values 0-255, so :class:`PixelNormalizer` and a fitted
    :class:`~skfer.FERClassifier` pipeline take it unchanged. Images that are
    already 48x48 are taken to be one face and pass through undetected.

    An image with no face gives no row and a ``UserWarning`` naming it.
    Because the number of rows changes, use the detector in front of a
    fitted pipeline (``pipe.predict(detector.transform(photos))``) rather
    than inside one that is fitted on labels. Nothing is learned in ``fit``.

    Parameters
    ----------
    detector : "haar" or callable, default="haar"
        ``"haar"`` uses OpenCV's frontal-face Haar cascade, which ships with
        the opencv package. A callable is called as ``detector(gray)`` with a
        grayscale uint8 image of shape (H, W) and must return boxes
        ``(x, y, w, h)`` as an array-like of shape (n_faces, 4); then
        ``scale_factor``, ``min_neighbors`` and ``min_size`` are unused.
    scale_factor : float, default=1.2
        Haar cascade: how much the search window grows at each scale; 1.1
        searches more finely and takes about twice as long.
    min_neighbors : int, default=5
        Haar cascade: overlapping detections a face needs to be kept;
        higher values give fewer false faces.
    min_size : int, default=48
        Haar cascade: smallest face side searched for, in pixels (FER2013's
        48: smaller faces would be enlarged to fit, and searching for them
        costs most of the time).
    margin : float, default=0.1
        Extra border around each face on every side, as a fraction of the
        face's side, to frame faces like FER2013 does.
    max_faces : int, default=None
        Keep at most this many faces per image, the largest first; all if None.

    Attributes
    ----------
    faces_ : list of Face
        The faces found by the last call to :meth:`transform`, in the order
        of its rows: the index and name of their image, their box and crop.

    See Also
    --------
    PixelNormalizer : Scale the pixel values of the faces.
    skfer.predict_images : Predict the emotions of all faces in image and video files.

    Examples
    --------
    >>> import numpy as np
    >>> from skfer.preprocessing import FaceDetector
    >>> photo = np.zeros((120, 160, 3), dtype=np.uint8)
    >>> detector = FaceDetector(detector=lambda gray: [(40, 20, 60, 60)], margin=0.0)
    >>> X = detector.fit_transform([photo])
    >>> X.shape, X.dtype
    ((1, 2304), dtype('float32'))
    >>> detector.faces_[0].box
    (40, 20, 60, 60)
    >>> FaceDetector().transform(np.zeros((2, 48, 48))).shape
    (2, 2304)
    """

    _parameter_constraints = {
        "detector": [StrOptions({"haar"}), callable],
        "scale_factor": [Interval(Real, 1, None, closed="neither")],
        "min_neighbors": [Interval(Integral, 0, None, closed="left")],
        "min_size": [Interval(Integral, 1, None, closed="left")],
        "margin": [Interval(Real, 0, None, closed="left")],
        "max_faces": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self,
        detector="haar",
        *,
        scale_factor=1.2,
        min_neighbors=5,
        min_size=48,
        margin=0.1,
        max_faces=None,
    ):
        self.detector = detector
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self.min_size = min_size
        self.margin = margin
        self.max_faces = max_faces

    def fit(self, X=None, y=None):
        """Check the parameters; nothing is learned.

        Parameters
        ----------
        X : None
            Ignored.
        y : None
            Ignored.

        Returns
        -------
        self : FaceDetector
            The detector.
        """
        self._validate_params()
        return self

    def detect(self, X):
        """Find the faces in each image.

        Parameters
        ----------
        X : list of (str, path-like or ndarray), or ndarray of shape (n, H, W[, C])
            Image files (any format OpenCV reads), or images as arrays: gray
            (H, W), RGB (H, W, 3) or RGBA (H, W, 4), uint8 or float in [0, 1].

        Returns
        -------
        list of Face
            The faces, image by image, the largest first within an image.

        Raises
        ------
        ValueError
            Naming the file or image that could not be read or is not an image.
        """
        self._validate_params()
        faces = []
        for index, item in enumerate(_items(X)):
            name = _name(item, index)
            if isinstance(item, (str, PathLike)):
                item = cv2.cvtColor(_read_bgr(item), cv2.COLOR_BGR2GRAY)
            found = self._find(_to_gray(item, f"Image {index}"))
            if not found:
                warnings.warn(f"No face found in {name!r}.", UserWarning, stacklevel=2)
            faces.extend(Face(index, name, box, crop) for box, crop in found)
        return faces

    def find(self, image):
        """Find the faces in one image array, without warnings (e.g. for video frames).

        Parameters
        ----------
        image : ndarray of shape (H, W), (H, W, 3) or (H, W, 4)
            A gray, RGB or RGBA image, uint8 or float in [0, 1].

        Returns
        -------
        list of (tuple, ndarray)
            For each face, the largest first, its box ``(x, y, w, h)`` and its
            48x48 uint8 crop.
        """
        self._validate_params()
        return self._find(_to_gray(image))

    def _find(self, gray):
        height, width = gray.shape
        if (height, width) == (IMAGE_SIZE, IMAGE_SIZE):
            return [((0, 0, width, height), gray)]
        boxes = self._boxes(gray)
        boxes = sorted(boxes, key=lambda box: box[2] * box[3], reverse=True)
        return [(box, self._crop(gray, box)) for box in boxes[: self.max_faces]]

    def transform(self, X):
        """Return the faces of all images as rows of 2304 pixel values.

        Parameters
        ----------
        X : list of (str, path-like or ndarray), or ndarray of shape (n, H, W[, C])
            Image files or image arrays, as in :meth:`detect`.

        Returns
        -------
        ndarray of shape (n_faces, 2304), dtype float32
            One 48x48 face per row, values 0-255; ``faces_`` describes the rows.
        """
        self.faces_ = self.detect(X)
        if not self.faces_:
            return np.empty((0, N_PIXELS), dtype=np.float32)
        return np.stack([face.image.reshape(N_PIXELS) for face in self.faces_]).astype(np.float32)

    def _boxes(self, gray):
        if self.detector == "haar":
            boxes = _haar_cascade().detectMultiScale(
                gray,
                scaleFactor=self.scale_factor,
                minNeighbors=self.min_neighbors,
                minSize=(self.min_size, self.min_size),
            )
        else:
            boxes = self.detector(gray)
        boxes = np.asarray(boxes)
        if boxes.size == 0:
            return []
        if boxes.ndim != 2 or boxes.shape[1] != 4 or boxes.dtype.kind not in "uif":
            raise ValueError(
                f"The detector must return boxes (x, y, w, h) as numbers of shape (n_faces, 4); "
                f"got {boxes.tolist()!r}."
            )
        return [tuple(int(v) for v in box) for box in np.rint(boxes)]

    def _crop(self, gray, box):
        x, y, w, h = box
        height, width = gray.shape
        half = max(w, h) * (1 + 2 * self.margin) / 2
        cx, cy = x + w / 2, y + h / 2
        left, top = max(0, math.floor(cx - half)), max(0, math.floor(cy - half))
        right, bottom = min(width, math.ceil(cx + half)), min(height, math.ceil(cy + half))
        if w <= 0 or h <= 0 or right <= left or bottom <= top:
            raise ValueError(
                f"The detector returned the box {box}, which does not cover any pixel of a "
                f"{width}x{height} image."
            )
        return cv2.resize(
            gray[top:bottom, left:right], (IMAGE_SIZE, IMAGE_SIZE), interpolation=cv2.INTER_AREA
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
