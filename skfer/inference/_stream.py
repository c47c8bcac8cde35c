"""Emotions of the faces in a stream of frames: a webcam, a video file or a list of images."""

import math
import time
from numbers import Integral, Real
from os import PathLike
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
from .._validation import HasMethods, Interval, validate_params

from .._constants import EMOTIONS, N_PIXELS
from .._labels import emotion_names
from ..preprocessing import FaceDetector, UnreadableFileError


class _EmotionProba:
    """Probabilities of 48x48 crops by a fitted pipeline, one column per emotion of EMOTIONS."""

    def __init__(self, pipeline):
        self.pipeline = pipeline
        self.columns = [EMOTIONS.index(name) for name in emotion_names(pipeline.classes_)]

    def __call__(self, crops):
        """(n, 7) probabilities, 0 for the emotions the pipeline does not know."""
        proba = np.zeros((len(crops), len(EMOTIONS)))
        if crops:
            faces = np.stack([crop.reshape(N_PIXELS) for crop in crops]).astype(np.float32)
            # scikeras squeezes a single face's probabilities to 1D; restore the row
            predicted = self.pipeline.predict_proba(faces)
            proba[:, self.columns] = np.reshape(predicted, (len(faces), -1))
        return proba


class FrameEmotions(NamedTuple):
    """The faces found in one frame by :func:`stream_emotions`, with their emotions.

    Attributes
    ----------
    index : int
        The frame's position in the stream, skipped frames counted.
    time_s : float
        Seconds from the stream's first frame: ``index / fps`` when the
        frame rate is known (video files, or ``fps`` given), else the wall
        clock when the frame was read.
    frame : ndarray
        The frame as read (BGR from OpenCV captures and video files).
    faces : list of Face
        The faces, the largest first: box, 48x48 crop and, from detectors
        that give them, score and keypoints.
    emotions : list of str
        The most probable emotion of each face.
    proba : ndarray of shape (n_faces, 7)
        Probability of each emotion of :data:`skfer.EMOTIONS` for each face
        (0 for emotions the pipeline does not know).
    latency_s : float
        Seconds from reading the frame to its result, detection, waiting
        for the rest of its batch and prediction included.

    Examples
    --------
    >>> import numpy as np
    >>> from skfer import load_pretrained, stream_emotions
    >>> result = next(stream_emotions([np.zeros((48, 48), np.uint8)], load_pretrained(), fps=25))  # doctest: +SKIP
    >>> result.index, result.time_s, len(result.faces), result.proba.shape  # doctest: +SKIP
    (0, 0.0, 1, (1, 7))
    """

    index: int
    time_s: float
    frame: np.ndarray
    faces: list
    emotions: list
    proba: np.ndarray
    latency_s: float


def _capture_frames(capture, every, name, is_file):
    """(index, BGR frame) of every ``every``-th frame; skipped frames are grabbed, not decoded."""
    index = 0
    while capture.grab():
        if index % every == 0:
            ok, image = capture.retrieve()
            if not ok:
                raise UnreadableFileError(f"Frame {index} of {name} cannot be decoded.")
            yield index, image
        index += 1
    if index == 0 and is_file:
        raise UnreadableFileError(_not_a_video(name))


def _not_a_video(name):
    return f"File {name} is not a video OpenCV can read."


def _source(frames, every, fps):
    """Frames as (index, image) pairs, the frame rate, whether images are BGR, and a closer."""
    is_file = isinstance(frames, (str, PathLike))
    if is_file:
        name = repr(str(frames))
        frames = cv2.VideoCapture(str(frames))
        release = frames.release
    elif isinstance(frames, cv2.VideoCapture):
        name, release = "the capture", lambda: None
    else:
        pairs = ((i, image) for i, image in enumerate(frames) if i % every == 0)
        return pairs, fps, False, lambda: None
    if not frames.isOpened():
        release()
        raise UnreadableFileError(
            _not_a_video(name) if is_file else "The capture is not open (no such camera?)."
        )
    if fps is None and is_file:
        # Containers may report 0, NaN or a placeholder such as 90000 (a time base) when they
        # do not know the rate: only a plausible one is used, else times come from the clock.
        reported = frames.get(cv2.CAP_PROP_FPS)
        fps = reported if math.isfinite(reported) and 0 < reported <= 1000 else None
    return _capture_frames(frames, every, name, is_file), fps, True, release


def _results(batch, proba_of):
    """Predict the faces of a batch of frames in one call; a FrameEmotions per frame."""
    proba = proba_of([face.image for *_, faces, _ in batch for face in faces])
    start = 0
    for index, time_s, image, faces, read_at in batch:
        rows = proba[start : start + len(faces)]
        start += len(faces)
        emotions = [EMOTIONS[i] for i in rows.argmax(axis=1)]
        yield FrameEmotions(
            index, time_s, image, faces, emotions, rows, time.perf_counter() - read_at
        )


def _stream(frames, proba_of, detector, every, batch_frames, fps):
    pairs, fps, bgr, release = _source(frames, every, fps)
    try:
        batch, start = [], None
        for index, image in pairs:
            read_at = time.perf_counter()
            start = read_at if start is None else start
            time_s = index / fps if fps else read_at - start
            try:
                faces = detector.find(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if bgr else image)
            except ValueError as exc:
                raise ValueError(f"Frame {index}: {exc}") from exc
            batch.append((index, time_s, image, faces, read_at))
            if len(batch) == batch_frames:
                yield from _results(batch, proba_of)
                batch = []
        yield from _results(batch, proba_of)
    finally:
        release()


@validate_params(
    {
        "frames": "no_validation",
        "pipeline": [HasMethods(["predict_proba"]), None],
        "detector": [HasMethods(["find"]), None],
        "every": [Interval(Integral, 1, None, closed="left")],
        "batch_frames": [Interval(Integral, 1, None, closed="left")],
        "fps": [Interval(Real, 0, None, closed="neither"), None],
    },
)
def stream_emotions(frames, pipeline, *, detector=None, every=1, batch_frames=1, fps=None):
    """Yield the faces and emotions of each frame of a webcam, a video or a list of images.

    Frames are read one at a time, their faces found by ``detector`` and
    the faces of ``batch_frames`` frames classified together in one
    ``predict_proba`` call, so a video file is processed in batches while a
    webcam (``batch_frames=1``) gets each frame's result as soon as it is
    ready. Nothing is read before the first result is asked for, and a
    capture opened from a path is released when the generator is done or
    closed.

    Parameters
    ----------
    frames : cv2.VideoCapture, str, path-like or iterable of ndarray
        An OpenCV capture (e.g. a webcam's ``cv2.VideoCapture(0)``), the
        path of a video file, or any iterable of images: gray (H, W), RGB
        (H, W, 3) or RGBA (H, W, 4) arrays, uint8 or float in [0, 1]. Frames
        from captures and files are BGR, OpenCV's order, and converted
        accordingly; arrays are taken to be RGB.
    pipeline : estimator
        A fitted classifier with ``predict_proba`` that takes faces of shape
        (n, 2304) with pixel values 0-255, such as
        :func:`~skfer.pretrained.load_pretrained`'s pipeline or an
        :class:`~skfer.ONNXEmotionPredictor`; its ``classes_`` are labels
        0-6 or emotion names.
    detector : FaceDetector, default=None
        Finds and crops the faces; ``FaceDetector()`` if None.
    every : int, default=1
        Use every ``every``-th frame (0, every, 2 * every, ...); skipped
        frames of captures are not decoded.
    batch_frames : int, default=1
        Frames whose faces are classified in one call: 1 for the least
        latency (live video), more for throughput (files).
    fps : float, default=None
        Frame rate for ``time_s``; if None, a video file's own rate, else
        (captures and arrays) the wall clock.

    Yields
    ------
    FrameEmotions
        One per used frame, in order: ``index``, ``time_s``, ``frame``,
        ``faces``, ``emotions``, ``proba`` and ``latency_s``.

    Raises
    ------
    ValueError
        If a parameter is invalid, a video file does not exist or cannot be
        read, a capture is not open, or a frame is not an image.

    See Also
    --------
    skfer.predict_images : The faces and emotions of image and video files, as a table.

    Examples
    --------
    A webcam loop (press q to stop):

    >>> import cv2
    >>> from skfer import load_pretrained, stream_emotions
    >>> for result in stream_emotions(cv2.VideoCapture(0), load_pretrained()):  # doctest: +SKIP
    ...     for face, emotion in zip(result.faces, result.emotions):
    ...         x, y, w, h = face.box
    ...         cv2.rectangle(result.frame, (x, y), (x + w, y + h), (0, 160, 0), 2)
    ...         cv2.putText(result.frame, emotion, (x, y - 5), 0, 0.8, (0, 160, 0), 2)
    ...     cv2.imshow("skfer", result.frame)
    ...     if cv2.waitKey(1) == ord("q"):
    ...         break

    Frames as arrays, here three 48x48 faces, each taken as one face:

    >>> import numpy as np
    >>> from sklearn.dummy import DummyClassifier
    >>> clf = DummyClassifier().fit(np.zeros((2, 2304)), ["Happy", "Sad"])
    >>> frames = [np.zeros((48, 48), dtype=np.uint8)] * 3
    >>> for result in stream_emotions(frames, clf, fps=10, batch_frames=2):
    ...     print(result.index, result.time_s, result.emotions)
    0 0.0 ['Happy']
    1 0.1 ['Happy']
    2 0.2 ['Happy']
    """
    if isinstance(frames, (str, PathLike)) and not Path(frames).is_file():
        raise UnreadableFileError(f"Video file {str(frames)!r} does not exist.")
    proba_of = _EmotionProba(pipeline)
    detector = FaceDetector() if detector is None else detector
    return _stream(frames, proba_of, detector, every, batch_frames, fps)
