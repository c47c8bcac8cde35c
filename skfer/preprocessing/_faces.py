"""Find faces in photos and crop them to FER2013's 48x48 grayscale format."""

import math
import warnings
from numbers import Integral, Real
from os import PathLike
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
from sklearn.base import BaseEstimator

from .._constants import IMAGE_SIZE, N_PIXELS, PIXEL_MAX
from .._validation import Interval, Options, check_params
from ._blazeface import KEYPOINTS, MODEL_DIR, BlazeFace

_HAAR_FILE = "haarcascade_frontalface_default.xml"
_GRAY_FROM = {3: cv2.COLOR_RGB2GRAY, 4: cv2.COLOR_RGBA2GRAY}
_NO_KEYPOINTS = np.empty((0, 2))
_NO_KEYPOINTS.flags.writeable = False
_IDENTITY = np.eye(2, 3)
_IDENTITY.flags.writeable = False
#: Aligning: how far (a fraction of the face's side) and how tilted (degrees) the detector's
#: second look may find the face in its turned surroundings.
_RECENTRE_DISTANCE = 0.35
_LEVEL_DEGREES = 15


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
        The grayscale crop, margin included, rotated so that the eyes are
        level and framed by the level face's box when the face was
        aligned, resized like FER2013 faces.
    score : float, default=nan
        The detector's confidence in the face, 0-1; NaN for detectors that
        give none (the Haar cascade) and for 48x48 faces.
    keypoints : ndarray of shape (n_keypoints, 2), default=empty
        The ``(x, y)`` keypoints in pixels of the source image, from
        detectors that give them. BlazeFace's six are the person's right
        eye, left eye, nose tip, mouth centre, right ear and left ear
        (``FaceDetector.KEYPOINTS``); the person's right eye is on the
        image's left in a frontal face.
    transform : ndarray of shape (2, 3), default=identity
        Where ``image`` lies in the source image: the affine map from the
        source image's pixel coordinates ``(x, y)`` to the crop's (pixel
        centres at whole numbers), turn, margin and resizing included, in
        the form ``cv2.warpAffine`` takes. ``cv2.warpAffine(gray,
        face.transform, (48, 48))`` redraws the crop (bilinear, where the
        crop averages pixels), and with ``flags=cv2.WARP_INVERSE_MAP`` an
        image of the crop (a saliency map, say) is drawn back onto the
        source image's pixels.

    Examples
    --------
    >>> import numpy as np
    >>> from skfer.preprocessing import FaceDetector
    >>> face = FaceDetector().detect([np.zeros((48, 48), dtype=np.uint8)])[0]
    >>> face.source, face.name, face.box, face.image.shape, face.keypoints.shape
    (0, 'image 0', (0, 0, 48, 48), (48, 48), (0, 2))

    A face found in a photo: the centre of its crop is the centre of the
    box (x 40 to 100, y 20 to 80, no margin) in the photo's pixels:

    >>> detector = FaceDetector(detector=lambda gray: [(40, 20, 60, 60)], margin=0.0)
    >>> face = detector.detect([np.zeros((120, 160), dtype=np.uint8)])[0]
    >>> face.transform @ [69.5, 49.5, 1.0]
    array([23.5, 23.5])
    """

    source: int
    name: str
    box: tuple
    image: np.ndarray
    score: float = math.nan
    keypoints: np.ndarray = _NO_KEYPOINTS
    transform: np.ndarray = _IDENTITY


def _haar_cascade():
    """OpenCV's frontal-face Haar cascade, from the copy shipped in skfer."""
    path = MODEL_DIR / _HAAR_FILE
    if not hasattr(cv2, "CascadeClassifier"):
        raise RuntimeError(
            f"detector='haar' needs cv2.CascadeClassifier, which OpenCV {cv2.__version__}'s "
            "opencv-python-headless does not include (OpenCV 5 moved it out of the main "
            "wheel). Use detector='blazeface', or install opencv-contrib-python-headless "
            "in its place."
        )
    cascade = cv2.CascadeClassifier(str(path))
    if cascade.empty():
        raise RuntimeError(f"OpenCV cannot load the Haar cascade {path}.")
    return cascade


class UnreadableFileError(ValueError):
    """A file that does not exist or that OpenCV cannot decode; the message names it.

    Examples
    --------
    >>> from skfer.preprocessing import UnreadableFileError
    >>> issubclass(UnreadableFileError, ValueError)
    True
    """


def read_bgr(path):
    """Read an image file as 8-bit BGR (OpenCV's channel order), or raise naming it.

    Parameters
    ----------
    path : str or path-like
        The image file.

    Returns
    -------
    ndarray of shape (height, width, 3)
        The image, uint8, in BGR order.

    Raises
    ------
    UnreadableFileError
        If the file does not exist or is not an image OpenCV can decode.

    Examples
    --------
    >>> from skfer.preprocessing import read_bgr
    >>> read_bgr("no-such-photo.jpg")
    Traceback (most recent call last):
    ...
    skfer.preprocessing._faces.UnreadableFileError: Image file 'no-such-photo.jpg' does not exist.
    """
    path = Path(path)
    if not path.is_file():
        raise UnreadableFileError(f"Image file {str(path)!r} does not exist.")
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise UnreadableFileError(f"File {str(path)!r} is not an image OpenCV can read.")
    return image


def _eyes_angle(eyes):
    """Degrees from the person's right eye to their left eye, counter-clockwise in image pixels."""
    (rx, ry), (lx, ly) = eyes
    return math.degrees(math.atan2(ly - ry, lx - rx))


def _turned(gray, centre, angle, side):
    """The square of ``side`` pixels (rounded up) about ``centre``, turned by ``angle`` degrees (borders
    repeat), and the affine map (3x3) from ``gray``'s pixels to the square's."""
    side = math.ceil(side)
    rotation = cv2.getRotationMatrix2D(centre, angle, 1.0)
    rotation[:, 2] += side / 2 - np.asarray(centre, dtype=float)
    square = cv2.warpAffine(gray, rotation, (side, side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return square, np.vstack([rotation, [0.0, 0.0, 1.0]])


def _moved(dx, dy):
    """The affine map (3x3) that moves pixels by ``(dx, dy)``."""
    return np.array([[1.0, 0.0, dx], [0.0, 1.0, dy], [0.0, 0.0, 1.0]])


def _resized(width, height):
    """The affine map (3x3) from a ``width`` x ``height`` image's pixels to those of its 48x48 resize (centres kept)."""
    sx, sy = IMAGE_SIZE / width, IMAGE_SIZE / height
    return np.array([[sx, 0.0, (sx - 1) / 2], [0.0, sy, (sy - 1) / 2], [0.0, 0.0, 1.0]])


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


class FaceDetector(BaseEstimator):
    """Find faces in photos and turn each into a 48x48 FER2013-style face.

    Each image is converted to grayscale and searched for faces. Each face
    is cropped as a square of side ``max(w, h) * (1 + 2 * margin)`` centred
    on the detector's box and resized to 48x48 with ``cv2.INTER_AREA``.
    Where the detector gives eye keypoints and ``align`` is True, the face's
    surroundings are first turned about the box's centre so that the eyes
    are level, and the detector looks at them again: the box it finds on
    the level face frames the crop (the first box does if it finds none).
    An upright crop is clipped to the image; an aligned one repeats the
    image's border pixels. The output has one row per face (not per image),
    with pixel values 0-255, so :class:`PixelNormalizer` and a fitted
    :class:`~skfer.FERClassifier` pipeline take it unchanged. Images that are
    already 48x48 are taken to be one face and pass through undetected.

    An image with no face gives no row and a ``UserWarning`` naming it.
    Because an image gives any number of faces, the detector is the step
    before a pipeline, not a step of one (a Pipeline's steps keep one row
    per input): ``rows, faces = detector.crop(photos)`` then
    ``pipe.predict(rows)``, or :func:`~skfer.predict_images`, which does
    both for files. It learns nothing, so it has no ``fit``.

    Parameters
    ----------
    detector : {"blazeface", "haar"} or callable, default="blazeface"
        ``"blazeface"`` runs MediaPipe's BlazeFace short-range network
        (shipped in skfer, run by OpenCV's ``dnn`` module), which gives a
        score and six keypoints per face, finds faces tilted by 30 degrees,
        and misses faces smaller than about a sixth of the image's longer
        side (``benchmarks/results/faces.md``) unless ``tiles`` searches
        parts of the image too. ``"haar"`` uses OpenCV's
        frontal-face Haar cascade (also shipped in skfer; on OpenCV 5 it needs
        opencv-contrib-python-headless for ``cv2.CascadeClassifier``), which
        gives neither. A callable is called as ``detector(gray)`` with a
        grayscale uint8 image of shape (H, W) and returns an array-like of
        shape (n_faces, 4) with boxes ``x, y, w, h``, (n_faces, 5) with a
        score 0-1 after each box, or (n_faces, 5 + 2 * k) with ``k``
        keypoints ``x, y`` after the score, the first two being the person's
        right and left eye (used by ``align``).
    min_confidence : float, default=0.6
        Faces scored below this (0-1) are dropped; for detectors that give
        no score (the Haar cascade) use ``min_neighbors``. At 0.6 BlazeFace
        found no face in scikit-image's face-free photos, where at
        MediaPipe's 0.5 it took a coffee cup for one
        (``benchmarks/results/faces.json``).
    align : bool, default=True
        Rotate each face that has eye keypoints so that its eyes are level
        before cropping it, and frame it with the detector's box for the
        level face (one more detector call per face): BlazeFace's box for a
        face tilted by 30 degrees is smaller and off-centre. On FER2013
        faces placed in photos tilted by 30 degrees, alignment brings the
        default model's accuracy close to that on the same faces upright
        (the figures are on the documentation's benchmarks page, from
        ``benchmarks/results/faces.md``).
    tiles : int, default=1
        BlazeFace: besides the whole image, also search ``tiles`` x ``tiles``
        tiles that overlap by half, each at the network's full resolution, to
        find faces too small for one pass over the whole image; each tile
        costs one more pass. 1 searches the whole image only.
    scale_factor : float, default=1.2
        Haar cascade: how much the search window grows at each scale; 1.1
        searches more finely and takes about twice as long.
    min_neighbors : int, default=5
        Haar cascade: overlapping detections a face needs to be kept;
        higher values give fewer false faces.
    min_size : int, default=48
        Built-in detectors: smallest face side kept, in pixels (FER2013's
        48: smaller faces would be enlarged to fit); the Haar cascade does
        not search for smaller faces, which saves most of its time. Unused
        with a callable detector.
    margin : float, default=0.1
        Extra border around each face on every side, as a fraction of the
        face's side, to frame faces like FER2013 does.
    max_faces : int, default=None
        Keep at most this many faces per image, the largest first (1 for
        the largest face only); all if None.

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
    >>> rows, faces = detector.crop([photo])
    >>> rows.shape, rows.dtype, faces[0].box
    ((1, 2304), dtype('float32'), (40, 20, 60, 60))
    >>> FaceDetector().crop(np.zeros((2, 48, 48)))[0].shape
    (2, 2304)
    >>> FaceDetector.KEYPOINTS[:2]
    ('right_eye', 'left_eye')
    """

    #: Names of the keypoints that ``detector="blazeface"`` gives, in order.
    KEYPOINTS = KEYPOINTS

    _parameter_constraints = {
        "detector": [Options({"blazeface", "haar"}), callable],
        "min_confidence": [Interval(Real, 0, 1, closed="both")],
        "align": ["boolean"],
        "tiles": [Interval(Integral, 1, None, closed="left")],
        "scale_factor": [Interval(Real, 1, None, closed="neither")],
        "min_neighbors": [Interval(Integral, 0, None, closed="left")],
        "min_size": [Interval(Integral, 1, None, closed="left")],
        "margin": [Interval(Real, 0, None, closed="left")],
        "max_faces": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self,
        detector="blazeface",
        *,
        min_confidence=0.6,
        align=True,
        tiles=1,
        scale_factor=1.2,
        min_neighbors=5,
        min_size=48,
        margin=0.1,
        max_faces=None,
    ):
        self.detector = detector
        self.min_confidence = min_confidence
        self.align = align
        self.tiles = tiles
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self.min_size = min_size
        self.margin = margin
        self.max_faces = max_faces

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
        check_params(self.get_params(deep=False), self._parameter_constraints, type(self).__name__)
        faces = []
        for index, item in enumerate(_items(X)):
            name = _name(item, index)
            if isinstance(item, (str, PathLike)):
                item = cv2.cvtColor(read_bgr(item), cv2.COLOR_BGR2GRAY)
            found = self._find(_to_gray(item, f"Image {index}"), index, name)
            if not found:
                warnings.warn(f"No face found in {name!r}.", UserWarning, stacklevel=2)
            faces.extend(found)
        return faces

    def find(self, image):
        """Find the faces in one image array, without warnings (e.g. for video frames).

        Parameters
        ----------
        image : ndarray of shape (H, W), (H, W, 3) or (H, W, 4)
            A gray, RGB or RGBA image, uint8 or float in [0, 1].

        Returns
        -------
        list of Face
            The faces, the largest first, with ``source`` 0 and name
            ``"image 0"``.
        """
        check_params(self.get_params(deep=False), self._parameter_constraints, type(self).__name__)
        return self._find(_to_gray(image), 0, _name(image, 0))

    def _find(self, gray, source, name):
        height, width = gray.shape
        if (height, width) == (IMAGE_SIZE, IMAGE_SIZE):
            return [Face(source, name, (0, 0, width, height), gray)]
        min_size = 0 if callable(self.detector) else self.min_size
        found = [
            face
            for face in self._detections(gray)
            if not face[4] < self.min_confidence and max(face[2:4]) >= min_size
        ]
        found = sorted(found, key=lambda face: face[2] * face[3], reverse=True)
        faces = []
        for face in found[: self.max_faces]:
            box = tuple(int(v) for v in np.rint(face[:4]))
            keypoints = face[5:].reshape(-1, 2)
            image, transform = self._crop(gray, box, keypoints)
            faces.append(Face(source, name, box, image, face[4], keypoints, transform))
        return faces

    def crop(self, X):
        """The faces of all images as rows of 2304 pixel values, and the faces they are.

        Parameters
        ----------
        X : list of (str, path-like or ndarray), or ndarray of shape (n, H, W[, C])
            Image files or image arrays, as in :meth:`detect`.

        Returns
        -------
        rows : ndarray of shape (n_faces, 2304), dtype float32
            One 48x48 face per row, values 0-255: what a fitted pipeline's
            ``predict`` takes.
        faces : list of Face
            What each row is: the index and name of its image, its box,
            score and keypoints.
        """
        faces = self.detect(X)
        rows = np.empty((len(faces), N_PIXELS), dtype=np.float32)
        for row, face in zip(rows, faces):
            row[:] = face.image.reshape(N_PIXELS)
        return rows, faces

    def _model(self):
        """The callable detector; the built-in ones are loaded once per instance."""
        if callable(self.detector):
            return self.detector
        key = (self.detector, self.min_confidence, self.tiles)
        if getattr(self, "_loaded", (None,))[0] != key:
            self._loaded = (key, self._load())
        return self._loaded[1]

    def _load(self):
        if self.detector == "blazeface":
            return BlazeFace(self.min_confidence, tiles=self.tiles)
        cascade = _haar_cascade()

        def haar(gray):
            return cascade.detectMultiScale(
                gray,
                scaleFactor=self.scale_factor,
                minNeighbors=self.min_neighbors,
                minSize=(self.min_size, self.min_size),
            )

        return haar

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_loaded", None)  # OpenCV models cannot be pickled; they load again
        return state

    def _detections(self, gray):
        """The detector's faces as float rows: box, score (NaN if none), keypoints."""
        found = np.asarray(self._model()(gray))
        if found.size == 0:
            return []
        columns = found.shape[1] if found.ndim == 2 else 0
        if found.dtype.kind not in "uif" or columns < 4 or (columns > 5 and columns % 2 == 0):
            raise ValueError(
                "The detector must return numbers of shape (n_faces, 4) for boxes "
                "(x, y, w, h), (n_faces, 5) with a score, or (n_faces, 5 + 2 * k) with k "
                f"keypoints; got {found.tolist()!r}."
            )
        found = found.astype(float)
        if columns == 4:
            found = np.hstack([found, np.full((len(found), 1), np.nan)])
        return list(found)

    def _crop(self, gray, box, keypoints):
        x, y, w, h = box
        height, width = gray.shape
        side = max(w, h) * (1 + 2 * self.margin)
        cx, cy = x + w / 2, y + h / 2
        left, top = max(0, math.floor(cx - side / 2)), max(0, math.floor(cy - side / 2))
        right = min(width, math.ceil(cx + side / 2))
        bottom = min(height, math.ceil(cy + side / 2))
        if w <= 0 or h <= 0 or right <= left or bottom <= top:
            raise ValueError(
                f"The detector returned the box {box}, which does not cover any pixel of a "
                f"{width}x{height} image."
            )
        if self.align and len(keypoints) >= 2:
            square, placed = self._upright(gray, (cx, cy), max(w, h), keypoints[:2])
        else:
            square, placed = gray[top:bottom, left:right], _moved(-left, -top)
        image = cv2.resize(square, (IMAGE_SIZE, IMAGE_SIZE), interpolation=cv2.INTER_AREA)
        transform = (_resized(square.shape[1], square.shape[0]) @ placed)[:2]
        transform.flags.writeable = False
        return image, transform

    def _upright(self, gray, centre, face_side, eyes):
        """The face's square, margin included, turned so that the eyes are level, and the affine map
        (3x3) from ``gray``'s pixels to the square's.

        The detector looks again at the turned surroundings (twice the
        square): a tilted face's box is smaller than the upright face's and
        off its centre, which costs accuracy. The level face nearest the
        centre frames the square; where there is none, the first box does.
        """
        scale = 1 + 2 * self.margin
        context, turn = _turned(gray, centre, _eyes_angle(eyes), 2 * face_side * scale)
        middle = context.shape[0] / 2
        frame, nearest = (middle, middle, face_side), _RECENTRE_DISTANCE * face_side
        for x, y, w, h, score, *points in self._detections(context):
            distance = math.hypot(x + w / 2 - middle, y + h / 2 - middle)
            level = len(points) >= 4 and abs(_eyes_angle(np.reshape(points[:4], (2, 2)))) <= _LEVEL_DEGREES
            if level and not score < self.min_confidence and distance < nearest:
                frame, nearest = (x + w / 2, y + h / 2, max(w, h)), distance
        x, y, side = frame
        side = math.ceil(side * scale)
        shift = _moved(-round(x - side / 2), -round(y - side / 2))  # whole pixels
        square = cv2.warpAffine(context, shift[:2], (side, side), borderMode=cv2.BORDER_REPLICATE)
        return square, shift @ turn
