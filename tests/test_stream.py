"""stream_emotions on lists of images, video files and OpenCV captures."""

import cv2
import numpy as np
import pytest

from skfer import EMOTIONS, stream_emotions
from skfer.preprocessing import FaceDetector

from .test_predict import CountingClassifier, _video

skimage_data = pytest.importorskip("skimage.data")


@pytest.fixture
def counting():
    clf = CountingClassifier().fit(np.zeros((3, 2304)), ["Happy", "Sad", "Happy"])
    clf.calls_ = []
    return clf


def test_frames_are_batched_and_each_gets_its_faces_and_time(counting):
    face, empty = np.zeros((48, 48), dtype=np.uint8), np.zeros((60, 80, 3), dtype=np.uint8)
    frames = [face, empty, face, face, face]

    results = list(stream_emotions(frames, counting, batch_frames=2, fps=10))

    assert counting.calls_ == [1, 2, 1]  # frames (0, 1), (2, 3) and (4,)
    assert [r.index for r in results] == [0, 1, 2, 3, 4]
    assert [r.time_s for r in results] == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])
    assert [len(r.faces) for r in results] == [1, 0, 1, 1, 1]
    assert results[1].emotions == [] and results[1].proba.shape == (0, len(EMOTIONS))
    happy = EMOTIONS.index("Happy")
    assert results[0].emotions == ["Happy"] and results[0].proba[0, happy] == pytest.approx(2 / 3)
    assert results[0].frame is face and all(r.latency_s > 0 for r in results)


def test_without_fps_the_time_is_the_wall_clock(counting):
    frames = (np.zeros((48, 48), dtype=np.uint8) for _ in range(3))

    times = [r.time_s for r in stream_emotions(frames, counting)]

    assert times[0] == 0.0 and times[0] < times[1] < times[2] < 5


def test_video_file_and_capture_give_the_same_faces_and_emotions(tmp_path):
    video = _video(tmp_path / "clip.avi", n_frames=5, fps=5.0)
    rng = np.random.default_rng(0)
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression().fit(rng.integers(0, 256, (20, 2304)), np.arange(20) % 7)
    detector = FaceDetector(max_faces=1)

    from_file = list(stream_emotions(video, clf, detector=detector, every=2))
    capture = cv2.VideoCapture(str(video))
    from_capture = list(stream_emotions(capture, clf, detector=detector, every=2, fps=5.0))

    assert [r.index for r in from_file] == [0, 2, 4]
    assert [r.time_s for r in from_file] == pytest.approx([0.0, 0.4, 0.8])
    assert [r.time_s for r in from_capture] == pytest.approx([0.0, 0.4, 0.8])
    for a, b in zip(from_file, from_capture):
        assert a.faces[0].box == b.faces[0].box and a.emotions == b.emotions
        np.testing.assert_allclose(a.proba, b.proba)
    # the faces are the astronaut's, BGR frames converted as such, and predicted as crops
    crop = from_file[0].faces[0].image
    first = cv2.VideoCapture(str(video)).read()[1]
    assert from_file[0].faces[0].box == detector.find(cv2.cvtColor(first, cv2.COLOR_BGR2GRAY))[0].box
    np.testing.assert_allclose(from_file[0].proba[0], clf.predict_proba(crop.reshape(1, -1))[0])
    assert capture.isOpened()  # the caller's capture is left to the caller
    capture.release()


def test_errors_name_the_file_and_come_when_due(counting, tmp_path):
    with pytest.raises(ValueError, match="'every' parameter"):
        stream_emotions([], counting, every=0)
    with pytest.raises(ValueError, match="missing.avi' does not exist"):
        stream_emotions(tmp_path / "missing.avi", counting)
    (tmp_path / "text.avi").write_text("not a video")
    results = stream_emotions(tmp_path / "text.avi", counting)  # nothing is read yet
    with pytest.raises(ValueError, match="text.avi' is not a video OpenCV can read"):
        next(results)
    with pytest.raises(ValueError, match=r"Frame 0: The image has shape \(5,\)"):
        next(stream_emotions([np.zeros(5)], counting))
