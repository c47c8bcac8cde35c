"""Predict the emotion of every face in image and video files, in batches."""

import warnings
from numbers import Integral
from os import PathLike
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from ._constants import EMOTIONS, N_PIXELS
from .preprocessing import FaceDetector
from .preprocessing._faces import _read_bgr, _UnreadableFileError

#: File extensions read as images when searching folders.
IMAGE_EXTENSIONS = frozenset(
    {".bmp", ".jpeg", ".jpg", ".jpe", ".png", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".pnm"}
)
#: File extensions read as videos, frame by frame.
VIDEO_EXTENSIONS = frozenset({".avi", ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".mpg", ".mpeg"})
_WRITABLE = frozenset({".bmp", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp"})
_PLACE = ["file", "frame", "time_s", "face", "x", "y", "w", "h"]
_PLACE_DTYPES = {"file": object, "frame": "Int64", "time_s": float, "face": int} | dict.fromkeys(
    "xywh", int
)
_GREEN, _WHITE = (0, 160, 0), (255, 255, 255)
_FONT = cv2.FONT_HERSHEY_SIMPLEX


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


def _emotion_names(classes):
    """Emotion name of each class of a classifier: labels 0-6 or the names themselves."""
    names = []
    for label in np.asarray(classes).tolist():
        if isinstance(label, Integral) and 0 <= label < len(EMOTIONS):
            names.append(EMOTIONS[label])
        elif isinstance(label, str) and label in EMOTIONS:
            names.append(label)
        else:
            raise ValueError(
                f"The pipeline's class {label!r} is not an emotion: classes must be labels "
                f"0-{len(EMOTIONS) - 1} or names from {EMOTIONS}."
            )
    return names


def _default_pipeline():
    try:
        from .pretrained import load_pretrained
    except ImportError:
        raise ImportError(
            "No pipeline was given and skfer's pretrained model is not available "
            "(skfer.pretrained.load_pretrained). Pass a fitted pipeline that takes (n, 2304) "
            "faces with pixel values 0-255, e.g. make_fer_pipeline() fitted on FER2013."
        ) from None
    return load_pretrained()


class _BatchPredictor:
    """Collect faces with their places; predict them ``batch_size`` at a time."""

    def __init__(self, pipeline, batch_size):
        self.pipeline = pipeline
        self.batch_size = batch_size
        self.columns = [EMOTIONS.index(name) for name in _emotion_names(pipeline.classes_)]
        self.places, self.pending, self.probas = [], [], []

    def add(self, place, crop):
        self.places.append(place)
        self.pending.append(crop.reshape(N_PIXELS))
        if len(self.pending) == self.batch_size:
            self.flush()

    def flush(self):
        if self.pending:
            proba = np.zeros((len(self.pending), len(EMOTIONS)))
            faces = np.stack(self.pending).astype(np.float32)
            # scikeras squeezes a single face's probabilities to 1D; restore the row
            predicted = self.pipeline.predict_proba(faces)
            proba[:, self.columns] = np.reshape(predicted, (len(faces), -1))
            self.probas.append(proba)
            self.pending = []

    def result(self):
        self.flush()
        proba = np.concatenate(self.probas) if self.probas else np.empty((0, len(EMOTIONS)))
        df = pd.DataFrame(self.places, columns=_PLACE).astype(_PLACE_DTYPES)
        df["emotion"] = np.asarray(EMOTIONS, dtype=object)[proba.argmax(axis=1)]
        return pd.concat([df, pd.DataFrame(proba, columns=list(EMOTIONS))], axis=1)


def _predict_image(path, detector, predictor):
    faces = detector.find(cv2.cvtColor(_read_bgr(path), cv2.COLOR_BGR2GRAY))
    for face, (box, crop) in enumerate(faces):
        predictor.add([str(path), pd.NA, np.nan, face, *box], crop)
    return len(faces)


def _predict_video(path, detector, predictor, every):
    if not path.is_file():
        raise _UnreadableFileError(f"Video file {str(path)!r} does not exist.")
    capture = cv2.VideoCapture(str(path))
    try:
        fps = capture.get(cv2.CAP_PROP_FPS) or np.nan
        n_faces, frame = 0, 0
        while capture.grab():
            if frame % every == 0:
                ok, image = capture.retrieve()
                if not ok:
                    raise _UnreadableFileError(f"Frame {frame} of {str(path)!r} cannot be decoded.")
                faces = detector.find(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))
                for face, (box, crop) in enumerate(faces):
                    predictor.add([str(path), frame, frame / fps, face, *box], crop)
                n_faces += len(faces)
            frame += 1
    finally:
        capture.release()
    if frame == 0:
        raise _UnreadableFileError(f"File {str(path)!r} is not a video OpenCV can read.")
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


def _annotate(images, df, annotate_dir):
    """Write a copy of each image with its faces drawn, under a unique name."""
    annotate_dir = Path(annotate_dir)
    annotate_dir.mkdir(parents=True, exist_ok=True)
    used = set()
    for path in images:
        suffix = path.suffix if path.suffix.lower() in _WRITABLE else ".png"
        out, n = annotate_dir / f"{path.stem}{suffix}", 1
        while out in used:
            n += 1
            out = annotate_dir / f"{path.stem}_{n}{suffix}"
        used.add(out)
        if not cv2.imwrite(str(out), _draw(_read_bgr(path), df[df["file"] == str(path)])):
            raise OSError(f"Could not write the annotated image {str(out)!r}.")


def predict_images(
    paths,
    pipeline=None,
    *,
    detector=None,
    every=1,
    batch_size=256,
    annotate_dir=None,
    progress=None,
):
    """Find the faces in image and video files and predict each face's emotion.

    Every face of every file is cropped to a 48x48 FER2013-style face by
    ``detector`` and classified by ``pipeline``, ``batch_size`` faces per
    ``predict_proba`` call. Videos (by extension, read with OpenCV) give one
    row per face in every ``every``-th frame. Files that cannot be read are
    skipped and reported (a ``UserWarning`` sums them up), never fatal.

    Parameters
    ----------
    paths : str, path-like or list of them
        Image files, video files and folders; folders are searched
        recursively for files with an image or video extension.
    pipeline : estimator, default=None
        A fitted classifier with ``predict_proba`` that takes faces of shape
        (n, 2304) with pixel values 0-255, e.g. a fitted
        :func:`~skfer.make_fer_pipeline`; its ``classes_`` are labels 0-6 or
        emotion names. If None, the pretrained pipeline from
        ``skfer.pretrained.load_pretrained()``.
    detector : FaceDetector, default=None
        Finds and crops the faces; ``FaceDetector()`` if None.
    every : int, default=1
        Use every ``every``-th video frame (frames 0, every, 2 * every, ...).
    batch_size : int, default=256
        Faces per ``predict_proba`` call.
    annotate_dir : str or path-like, default=None
        If given, a copy of each image (not video) is written there with a
        box and an "Emotion 87%" label drawn on each face.
    progress : callable, default=None
        Called as ``progress(done, total, path)`` after each file.

    Returns
    -------
    pandas.DataFrame
        One row per face: ``file``, ``frame`` (video frame index, ``<NA>``
        for images), ``time_s`` (seconds into the video, NaN for images),
        ``face`` (index within its image or frame, the largest face first),
        the box ``x``, ``y``, ``w``, ``h``, the predicted ``emotion`` and one
        probability column per emotion in :data:`skfer.EMOTIONS` (0 for
        emotions the pipeline does not know). ``df.attrs["errors"]`` lists
        the skipped files as ``{"file": ..., "error": ...}`` dicts and
        ``df.attrs["no_face"]`` the files read without finding a face.

    Raises
    ------
    ValueError
        If ``paths`` holds no file, or ``every``, ``batch_size`` or the
        pipeline's classes are invalid.
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
    """
    for name, value in {"every": every, "batch_size": batch_size}.items():
        if not isinstance(value, Integral) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer; got {value!r}.")
    pipeline = _default_pipeline() if pipeline is None else pipeline
    detector = (FaceDetector() if detector is None else detector).fit()
    files = _expand(paths)
    if not files:
        raise ValueError(f"No image or video file found in {paths!r}.")
    predictor = _BatchPredictor(pipeline, batch_size)
    errors, no_face, images = [], [], []
    for done, path in enumerate(files, 1):
        is_video = path.suffix.lower() in VIDEO_EXTENSIONS
        try:
            if is_video:
                n_faces = _predict_video(path, detector, predictor, every)
            else:
                n_faces = _predict_image(path, detector, predictor)
                images.append(path)
        except _UnreadableFileError as exc:
            errors.append({"file": str(path), "error": str(exc)})
        else:
            if n_faces == 0:
                no_face.append(str(path))
        if progress is not None:
            progress(done, len(files), str(path))
    df = predictor.result()
    if annotate_dir is not None:
        _annotate(images, df, annotate_dir)
    df.attrs.update(errors=errors, no_face=no_face)
    if errors:
        details = "; ".join(error["error"] for error in errors)
        warnings.warn(
            f"Skipped {len(errors)} of {len(files)} files: {details}", UserWarning, stacklevel=2
        )
    return df
