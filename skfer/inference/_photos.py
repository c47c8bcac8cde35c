"""Predict the emotion of every face in image and video files, in batches."""

import contextlib
import math
import sys
import warnings
from numbers import Integral
from os import PathLike
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from .._constants import EMOTIONS, IMAGE_SIZE, N_PIXELS
from ..preprocessing import FaceDetector, UnreadableFileError, read_bgr
from ._saliency import check_method, saliency_maps
from ._stream import _EmotionProba, stream_emotions

#: File extensions read as images when searching folders.
IMAGE_EXTENSIONS = frozenset(
    {".bmp", ".jpeg", ".jpg", ".jpe", ".png", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".pnm"}
)
#: File extensions read as videos, frame by frame.
VIDEO_EXTENSIONS = frozenset({".avi", ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".mpg", ".mpeg"})
_WRITABLE = frozenset({".bmp", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp"})
#: Keypoint columns: x and y of each of BlazeFace's keypoints (NaN for detectors without them).
_KEYPOINTS = [f"{name}_{axis}" for name in FaceDetector.KEYPOINTS for axis in "xy"]
_PLACE = ["file", "frame", "time_s", "face", "x", "y", "w", "h", "score", *_KEYPOINTS]
_PLACE_DTYPES = {"file": object, "frame": "Int64", "time_s": float, "face": "Int64"} | dict.fromkeys(
    "xywh", "Int64"
)
#: ``status`` of the rows of files that gave no face, with ``all_files=True``.
NO_FACE, UNREADABLE, FAILED = "no face", "unreadable", "failed"
_VIDEO_BATCH_FRAMES = 16
_GREEN, _WHITE = (0, 160, 0), (255, 255, 255)
_FONT = cv2.FONT_HERSHEY_SIMPLEX
#: What ``explain=True`` computes: occlusion explains exactly what any pipeline predicts.
_DEFAULT_EXPLAIN = "occlusion"
#: Opacity of a saliency map's largest value drawn over a photo.
_MAP_OPACITY = 0.6


def _expand(paths):
    """Files to read: files as given, folders searched recursively for images and videos."""
    if isinstance(paths, (str, PathLike)):
        paths = [paths]
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            known = IMAGE_EXTENSIONS | VIDEO_EXTENSIONS
            found = (p for p in path.rglob("*") if p.suffix.lower() in known and p.is_file())
            files.extend(sorted(found))
        else:
            files.append(path)
    return files


def _place(path, frame, time_s, index, face):
    keypoints = np.full(len(_KEYPOINTS), np.nan)
    given = np.asarray(face.keypoints, dtype=float).reshape(-1)[: len(_KEYPOINTS)]
    keypoints[: len(given)] = given
    return [str(path), frame, time_s, index, *face.box, face.score, *keypoints]


def photo_map(face_map, transform, shape):
    """A 48x48 map drawn on the pixels of the photo its face was cropped from.

    Parameters
    ----------
    face_map : ndarray of shape (48, 48)
        A map over the face's crop.
    transform : ndarray of shape (2, 3)
        The crop's geometry, :attr:`Face.transform <skfer.preprocessing.Face>`.
    shape : tuple
        The photo's shape, height first.

    Returns
    -------
    window : ndarray of shape (h, w), dtype float32
        The map on the photo's pixels over ``box`` (bilinear); 0 on the
        pixels outside the crop, which the classifier never saw.
    box : tuple of int
        ``(x, y, w, h)``: where ``window`` lies in the photo, the smallest
        rectangle of pixels holding the crop, cut to the photo.

    Examples
    --------
    >>> import numpy as np
    >>> from skfer.inference._photos import photo_map
    >>> half = np.array([[0.5, 0.0, -0.25], [0.0, 0.5, -0.25]])  # a 96x96 photo shrunk to 48x48
    >>> window, box = photo_map(np.ones((48, 48)), half, (100, 120))
    >>> box, window.shape, float(window[1:-1, 1:-1].min())
    ((0, 0, 96, 96), (96, 96), 1.0)
    """
    height, width = shape[:2]
    matrix = np.vstack([transform, [0.0, 0.0, 1.0]])
    edges = (-0.5, IMAGE_SIZE - 0.5)
    corners = np.linalg.inv(matrix) @ np.array([[x, y, 1.0] for x in edges for y in edges]).T
    left, top = (max(0, math.ceil(corners[i].min())) for i in (0, 1))  # the pixels whose centres it covers
    right, bottom = min(width, math.floor(corners[0].max()) + 1), min(height, math.floor(corners[1].max()) + 1)
    window = (matrix @ np.array([[1.0, 0.0, left], [0.0, 1.0, top], [0.0, 0.0, 1.0]]))[:2]
    drawn = cv2.warpAffine(
        np.asarray(face_map, dtype=np.float32), window, (right - left, bottom - top),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT, borderValue=0.0,
    )
    return drawn, (left, top, right - left, bottom - top)


class _Explainer:
    """Saliency maps of faces found in photos, on the photos' pixels."""

    def __init__(self, pipeline, method):
        self.pipeline = pipeline
        self.method = method

    def __call__(self, faces, shapes):
        """A ``(window, box)`` pair (:func:`photo_map`) per face; ``shapes`` are their photos'."""
        if not faces:
            return []
        crops = np.stack([face.image.reshape(N_PIXELS) for face in faces]).astype(np.float32)
        maps = saliency_maps(self.pipeline, crops, method=self.method).maps
        return [photo_map(m, face.transform, shape) for m, face, shape in zip(maps, faces, shapes)]


class _Rows:
    """Rows of faces with their places; image faces predicted ``batch_size`` at a time (and explained)."""

    def __init__(self, proba_of, batch_size, explain_of=None):
        self.proba_of = proba_of
        self.batch_size = batch_size
        self.explain_of = explain_of
        self.places, self.pending, self.probas, self.statuses, self.maps = [], [], [], [], []

    def add(self, place, face, shape):
        self.places.append(place)
        self.pending.append((face, shape))
        if len(self.pending) == self.batch_size:
            self.flush()

    def add_predicted(self, places, proba, faces, shape):
        self.flush()
        self.places.extend(places)
        self.probas.append(proba)
        if self.explain_of is not None:
            self.maps.extend(self.explain_of(faces, [shape] * len(faces)))

    def add_status(self, path, status, reason):
        """A row for a file without faces, with the reason; rows stay in the order of the files."""
        self.statuses.append((len(self.places), str(path), status, reason))

    def flush(self):
        if self.pending:
            faces, shapes = zip(*self.pending)
            try:
                self.probas.append(self.proba_of([face.image for face in faces]))
                if self.explain_of is not None:
                    self.maps.extend(self.explain_of(faces, shapes))
            except Exception as exc:
                files = list(dict.fromkeys(place[0] for place in self.places[-len(self.pending):]))
                raise RuntimeError(
                    f"Predicting the faces of {', '.join(files[:3])}{' and others' if len(files) > 3 else ''} "
                    f"failed ({_predictor_versions(self.proba_of.pipeline)}): {type(exc).__name__}: {exc}"
                ) from exc
            self.pending = []

    def result(self):
        self.flush()
        proba = np.concatenate([np.empty((0, len(EMOTIONS))), *self.probas])
        df = pd.DataFrame(self.places, columns=_PLACE)
        df["emotion"] = np.asarray(EMOTIONS, dtype=object)[proba.argmax(axis=1)]
        df = pd.concat([df, pd.DataFrame(proba, columns=list(EMOTIONS))], axis=1)
        if self.explain_of is not None:
            windows, boxes = np.empty(len(df), dtype=object), np.empty(len(df), dtype=object)
            for i, (window, box) in enumerate(self.maps):
                windows[i], boxes[i] = window, box
            df["saliency"], df["saliency_box"] = windows, boxes
        df["status"], df["reason"] = "ok", ""
        if self.statuses:
            at, files, statuses, reasons = zip(*self.statuses)
            extra = pd.DataFrame({"file": files, "status": statuses, "reason": reasons},
                                 index=np.asarray(at) - 0.5)
            df = pd.concat([df, extra]).sort_index(kind="stable").reset_index(drop=True)
        return df.astype(_PLACE_DTYPES)


def _predictor_versions(pipeline):
    """The pipeline's class and the versions of the prediction libraries it has loaded."""
    loaded = [name for name in ("keras", "tensorflow", "jax", "torch", "onnxruntime") if name in sys.modules]
    return ", ".join([type(pipeline).__name__, *(f"{name} {sys.modules[name].__version__}" for name in loaded)])


class _StepError(RuntimeError):
    """An outside library failed on one file: the message names the file, the step and the version."""


@contextlib.contextmanager
def _step(path, step, library=f"OpenCV {cv2.__version__}"):
    """Turn any failure of ``step`` on ``path`` (other than an unreadable file) into a :class:`_StepError`."""
    try:
        yield
    except UnreadableFileError:
        raise
    except Exception as exc:
        first_line = str(exc).strip().splitlines()[-1] if str(exc).strip() else ""
        raise _StepError(f"{path}: {step} failed ({library}): {type(exc).__name__}: {first_line}") from exc


def _predict_image(path, detector, rows):
    image = read_bgr(path)
    with _step(path, "face detection and cropping"):
        faces = detector.find(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))
    for index, face in enumerate(faces):
        rows.add(_place(path, pd.NA, np.nan, index, face), face, image.shape)
    return len(faces)


def _predict_video(path, pipeline, detector, rows, every):
    results = stream_emotions(
        path, pipeline, detector=detector, every=every, batch_frames=_VIDEO_BATCH_FRAMES
    )
    library = f"OpenCV {cv2.__version__}, {_predictor_versions(pipeline)}"
    with _step(path, "reading the video, face detection, cropping and prediction", library):
        return _add_video_rows(path, results, rows)


def _add_video_rows(path, results, rows):
    n_faces = 0
    for result in results:
        places = [
            _place(path, result.index, result.time_s, index, face)
            for index, face in enumerate(result.faces)
        ]
        rows.add_predicted(places, result.proba, result.faces, result.frame.shape)
        n_faces += len(places)
    return n_faces


def _draw(image, faces):
    """Draw each face's box and an "Emotion 87%" label on a BGR image, in place."""
    side = max(image.shape[:2])
    thickness = max(2, round(side / 400))
    for face in faces.to_dict("records"):
        x, y, w, h = face["x"], face["y"], face["w"], face["h"]
        label = f"{face['emotion']} {face[face['emotion']]:.0%}"
        scale = max(0.6, w / 160, side / 1200)
        (text_w, text_h), baseline = cv2.getTextSize(label, _FONT, scale, thickness)
        label_h = text_h + baseline + 2 * thickness
        top = y - label_h if y >= label_h else y + h
        cv2.rectangle(image, (x, y), (x + w, y + h), _GREEN, thickness)
        cv2.rectangle(image, (x, top), (x + text_w + 2 * thickness, top + label_h), _GREEN, -1)
        origin = (x + thickness, top + thickness + text_h)
        cv2.putText(image, label, origin, _FONT, scale, _WHITE, thickness, cv2.LINE_AA)
    return image


def _draw_maps(image, faces):
    """Blend each face's saliency map into a BGR image, in place: its largest value most opaque."""
    for window, (x, y, w, h) in zip(faces["saliency"], faces["saliency_box"]):
        top = float(window.max())
        if top <= 0:
            continue
        heat = np.clip(window / top, 0, 1)
        colour = cv2.applyColorMap(np.round(heat * 255).astype(np.uint8), cv2.COLORMAP_JET)
        opacity = (_MAP_OPACITY * heat)[:, :, None]
        part = image[y : y + h, x : x + w]
        part[:] = np.round(part * (1 - opacity) + colour * opacity).astype(np.uint8)
    return image


def _annotate(images, df, annotate_dir):
    """Write a copy of each image with its faces drawn (and their maps, if explained), under a unique name."""
    annotate_dir = Path(annotate_dir)
    annotate_dir.mkdir(parents=True, exist_ok=True)
    used, faces = set(), df[df["status"] == "ok"]
    for path in images:
        suffix = path.suffix if path.suffix.lower() in _WRITABLE else ".png"
        out, n = annotate_dir / f"{path.stem}{suffix}", 1
        while out in used:
            n += 1
            out = annotate_dir / f"{path.stem}_{n}{suffix}"
        used.add(out)
        image, drawn = read_bgr(path), faces[faces["file"] == str(path)]
        if "saliency" in drawn:
            _draw_maps(image, drawn)
        if not cv2.imwrite(str(out), _draw(image, drawn)):
            raise OSError(f"Could not write the annotated image {str(out)!r}.")


def predict_images(
    paths,
    pipeline,
    *,
    detector=None,
    every=1,
    batch_size=256,
    annotate_dir=None,
    progress=None,
    all_files=False,
    explain=False,
):
    """Find the faces in image and video files and predict each face's emotion.

    Every face of every file is cropped to a 48x48 FER2013-style face by
    ``detector`` and classified by ``pipeline``, ``batch_size`` faces per
    ``predict_proba`` call. Videos (by extension, read with OpenCV through
    :func:`~skfer.stream_emotions`) give one row per face in every
    ``every``-th frame, the faces of 16 frames per call. Files that cannot be
    read are skipped and reported (a ``UserWarning`` sums them up), never
    fatal.

    Parameters
    ----------
    paths : str, path-like or list of them
        Image files, video files and folders; folders are searched
        recursively for files with an image or video extension.
    pipeline : estimator
        A fitted classifier with ``predict_proba`` that takes faces of shape
        (n, 2304) with pixel values 0-255, e.g. ``load_pretrained()``, a
        fitted :func:`~skfer.make_fer_pipeline` or an
        :class:`~skfer.ONNXEmotionPredictor`; its ``classes_`` are labels
        0-6 or emotion names.
    detector : FaceDetector, default=None
        Finds and crops the faces; ``FaceDetector()`` if None.
    every : int, default=1
        Use every ``every``-th video frame (frames 0, every, 2 * every, ...).
    batch_size : int, default=256
        Faces of images per ``predict_proba`` call.
    annotate_dir : str or path-like, default=None
        If given, a copy of each image (not video) is written there with a
        box and an "Emotion 87%" label drawn on each face and, with
        ``explain``, its saliency map blended in (jet colours, each map
        scaled to its largest value, which is drawn most opaque).
    progress : callable, default=None
        Called as ``progress(done, total, path, n_faces)`` after each file,
        with the number of faces found so far.
    all_files : bool, default=False
        Also give a row to each file without a face: ``status`` ``"no
        face"`` for files read without finding one, ``"unreadable"`` for
        files that do not exist or cannot be decoded, ``"failed"`` for files
        on which an outside library failed (face detection, cropping, or a
        video's frames), with the other columns empty and ``reason`` saying
        why (the step, the library and its message for a failure).
    explain : bool or {"occlusion", "gradcam"}, default=False
        Also compute each face's saliency map for its predicted emotion (as
        :class:`~skfer.SaliencyDisplay` does) and draw it back onto the
        photo's (or frame's) pixels through the crop's geometry
        (``Face.transform``). True means ``"occlusion"``, which explains
        exactly what ``pipeline`` predicts, whatever it is (100 more
        faces to predict per face); ``"gradcam"``
        needs a Keras network (``load_pretrained()``, not
        ``load_pretrained_onnx()``) and explains its float network.

    Returns
    -------
    pandas.DataFrame
        One row per face: ``file``, ``frame`` (video frame index, ``<NA>``
        for images), ``time_s`` (seconds into the video, NaN for images),
        ``face`` (index within its image or frame, the largest face first),
        the box ``x``, ``y``, ``w``, ``h``, the detector's ``score`` (NaN
        for detectors without one), the keypoints as ``right_eye_x``,
        ``right_eye_y`` and so on for ``FaceDetector.KEYPOINTS`` (NaN for
        detectors without them), the predicted ``emotion``, one probability
        column per emotion in :data:`skfer.EMOTIONS` (0 for emotions the
        pipeline does not know), ``status`` (``"ok"``) and ``reason``
        (empty for faces), in the order of the files. ``df.attrs["errors"]`` lists the skipped files as
        ``{"file": ..., "error": ...}`` dicts and ``df.attrs["no_face"]`` the
        files read without finding a face. With ``explain``, two more
        columns: ``saliency``, the face's map on the photo's pixels (a
        float32 array, 0 outside the face's crop), and ``saliency_box``,
        ``(x, y, w, h)``, where that array lies in the photo:
        ``saliency[i, j]`` belongs to pixel ``(x + j, y + i)``. The maps
        are raw: occlusion's are the fall of the emotion's probability,
        signed.

    Raises
    ------
    ValueError
        If ``paths`` holds no file, or ``every``, ``batch_size``,
        ``explain`` or the pipeline's classes are invalid.
    TypeError
        If ``explain="gradcam"`` and the pipeline has no Keras network.
    ImportError
        If ``pipeline`` is None and no pretrained pipeline is available.

    See Also
    --------
    skfer.preprocessing.FaceDetector : The face finder and cropper.

    Examples
    --------
    >>> from skfer import predict_images  # doctest: +SKIP
    >>> df = predict_images(["photos/"], pipe, annotate_dir="annotated/")  # doctest: +SKIP
    >>> df[["file", "face", "emotion", "Happy"]]  # doctest: +SKIP
                      file  face emotion     Happy
    0  photos/portrait.jpg     0   Happy  0.871...

    Each face's saliency map, on the photo's pixels:

    >>> df = predict_images(["portrait.jpg"], pipe, explain=True)  # doctest: +SKIP
    >>> x, y, w, h = df.saliency_box[0]  # doctest: +SKIP
    >>> df.saliency[0].shape == (h, w)  # doctest: +SKIP
    True
    """
    for name, value in {"every": every, "batch_size": batch_size}.items():
        if not isinstance(value, Integral) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer; got {value!r}.")
    if explain is True:
        explain = _DEFAULT_EXPLAIN
    if explain is not False:
        if explain not in ("occlusion", "gradcam"):
            raise ValueError(f"explain must be False, True, 'occlusion' or 'gradcam'; got {explain!r}.")
        check_method(pipeline, explain)
    detector = FaceDetector() if detector is None else detector
    files = _expand(paths)
    if not files:
        raise ValueError(f"No image or video file found in {paths!r}.")
    rows = _Rows(_EmotionProba(pipeline), batch_size, _Explainer(pipeline, explain) if explain else None)
    errors, no_face, images, total_faces = [], [], [], 0
    for done, path in enumerate(files, 1):
        is_video = path.suffix.lower() in VIDEO_EXTENSIONS
        try:
            if is_video:
                n_faces = _predict_video(path, pipeline, detector, rows, every)
            else:
                n_faces = _predict_image(path, detector, rows)
                images.append(path)
        except (UnreadableFileError, _StepError) as exc:
            errors.append({"file": str(path), "error": str(exc)})
            if all_files:
                rows.add_status(path, UNREADABLE if isinstance(exc, UnreadableFileError) else FAILED, str(exc))
        else:
            total_faces += n_faces
            if n_faces == 0:
                no_face.append(str(path))
                if all_files:
                    rows.add_status(path, NO_FACE, f"the detector found no face ({detector!r})")
        if progress is not None:
            progress(done, len(files), str(path), total_faces)
    df = rows.result()
    if annotate_dir is not None:
        _annotate(images, df, annotate_dir)
    df.attrs.update(errors=errors, no_face=no_face)
    if errors:
        details = "; ".join(error["error"] for error in errors)
        warnings.warn(
            f"Skipped {len(errors)} of {len(files)} files: {details}", UserWarning, stacklevel=2
        )
    return df
