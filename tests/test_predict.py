"""predict_images on a real portrait, a face-free photo, a bad file and a generated video."""


import cv2
import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier

from skfer import EMOTIONS, FERClassifier, make_fer_pipeline
from skfer.inference._photos import predict_images
from skfer.preprocessing import FaceDetector

from .conftest import TINY

skimage_data = pytest.importorskip("skimage.data")


@pytest.fixture(scope="module")
def pipeline():
    """A tiny FERClassifier pipeline fitted on generated faces labelled 0 (Angry) to 2 (Fear)."""
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 10)
    X = rng.integers(0, 256, size=(30, 2304)).astype(np.float32)
    return make_fer_pipeline(FERClassifier(**TINY, random_state=0)).fit(X, y)


class CountingClassifier(DummyClassifier):
    """A DummyClassifier that records the size of every predict_proba call."""

    def predict_proba(self, X):
        self.calls_.append(len(X))
        return super().predict_proba(X)


@pytest.fixture
def counting():
    clf = CountingClassifier().fit(np.zeros((3, 2304)), ["Happy", "Sad", "Happy"])
    clf.calls_ = []
    return clf


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """A folder with the astronaut portrait, a rocket (no face) and a text file."""
    folder = tmp_path_factory.mktemp("photos")
    photos = {"astronaut.png": skimage_data.astronaut(), "rocket.jpg": skimage_data.rocket()}
    for name, rgb in photos.items():
        cv2.imwrite(str(folder / name), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    (folder / "notes.txt").write_text("not a photo")
    return folder


def _video(path, n_frames, fps=10.0):
    frame = cv2.cvtColor(skimage_data.astronaut(), cv2.COLOR_RGB2BGR)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, frame.shape[1::-1])
    assert writer.isOpened(), "OpenCV cannot write MJPG videos here"
    for _ in range(n_frames):
        writer.write(frame)
    writer.release()
    return path


def test_predicts_the_astronauts_face_and_annotates_the_photos(pipeline, photos, tmp_path):
    annotated = tmp_path / "annotated"
    df = predict_images([photos], pipeline, annotate_dir=annotated)

    keypoints = [f"{name}_{axis}" for name in FaceDetector.KEYPOINTS for axis in "xy"]
    assert list(df.columns) == [
        "file", "frame", "time_s", "face", "x", "y", "w", "h", "score", *keypoints,
        "emotion", *EMOTIONS, "status", "reason",
    ]
    assert len(df) == 1
    row = df.iloc[0]
    assert row["file"] == str(photos / "astronaut.png")
    assert pd.isna(row["frame"]) and np.isnan(row["time_s"])
    assert 190 < row["x"] + row["w"] / 2 < 260
    proba = row[list(EMOTIONS)].to_numpy(dtype=float)
    assert proba.sum() == pytest.approx(1.0)
    assert (proba[3:] == 0).all()  # emotions the pipeline never saw
    assert row["emotion"] == EMOTIONS[proba.argmax()]
    assert 0.5 <= row["score"] <= 1 and row["status"] == "ok"
    assert row["x"] < row["right_eye_x"] < row["left_eye_x"] < row["x"] + row["w"]
    assert df.attrs["no_face"] == [str(photos / "rocket.jpg")]
    assert df.attrs["errors"] == []  # notes.txt is not searched for in a folder

    drawn = cv2.imread(str(annotated / "astronaut.png"))
    original = cv2.imread(str(photos / "astronaut.png"))
    assert drawn.shape == original.shape and (drawn != original).any()
    np.testing.assert_array_equal(cv2.imread(str(annotated / "rocket.jpg")).shape, (427, 640, 3))


def test_bad_files_are_reported_and_skipped(counting, photos, tmp_path):
    missing = tmp_path / "missing.png"

    with pytest.warns(UserWarning, match="Skipped 2 of 3 files:.*notes.txt.*missing.png"):
        df = predict_images([photos / "notes.txt", photos / "astronaut.png", missing], counting)

    assert len(df) == 1
    assert [error["file"] for error in df.attrs["errors"]] == [
        str(photos / "notes.txt"),
        str(missing),
    ]


def test_faces_of_all_files_are_predicted_in_batches(counting, photos):
    astronaut = photos / "astronaut.png"
    done = []

    df = predict_images(
        [astronaut] * 5, counting, batch_size=2, progress=lambda *args: done.append(args)
    )

    assert counting.calls_ == [2, 2, 1]
    assert df["emotion"].tolist() == ["Happy"] * 5
    assert df["Happy"].tolist() == pytest.approx([2 / 3] * 5)
    assert done == [(i, 5, str(astronaut), i) for i in range(1, 6)]


def test_all_files_gives_face_less_and_unreadable_files_a_status_row(counting, photos, tmp_path):
    files = [photos / "rocket.jpg", photos / "astronaut.png", photos / "notes.txt"]

    with pytest.warns(UserWarning, match="Skipped 1 of 3"):
        df = predict_images(files, counting, all_files=True)

    assert df["file"].tolist() == [str(path) for path in files]
    assert df["status"].tolist() == ["no face", "ok", "unreadable"]
    assert "found no face" in df.loc[0, "reason"] and df.loc[1, "reason"] == ""
    assert "notes.txt" in df.loc[2, "reason"] and "not an image" in df.loc[2, "reason"]
    assert df.loc[[0, 2], ["face", "x", "emotion", "Happy"]].isna().all().all()
    assert df.loc[1, "emotion"] == "Happy"


def test_video_gives_a_row_per_sampled_frame_with_its_time(counting, tmp_path):
    video = _video(tmp_path / "clip.avi", n_frames=7)

    df = predict_images(video, counting, detector=FaceDetector(max_faces=1), every=3)

    assert df["frame"].tolist() == [0, 3, 6]
    assert df["time_s"].tolist() == pytest.approx([0.0, 0.3, 0.6])
    assert (df["file"] == str(video)).all() and (df["face"] == 0).all()
    assert df.attrs["errors"] == []


def test_folders_are_searched_recursively_for_images_and_videos(counting, photos, tmp_path):
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    (nested / "portrait.PNG").write_bytes((photos / "astronaut.png").read_bytes())
    video = _video(tmp_path / "a" / "clip.avi", n_frames=2)

    df = predict_images(tmp_path, counting)

    assert df["file"].tolist() == [str(nested / "portrait.PNG"), str(video), str(video)]
    assert pd.isna(df["frame"].iloc[0]) and df["frame"].tolist()[1:] == [0, 1]


@pytest.mark.parametrize(
    "params, match",
    [({"every": 0}, "every must be a positive integer"), ({"batch_size": 1.5}, "batch_size")],
)
def test_invalid_arguments_raise(counting, photos, params, match):
    with pytest.raises(ValueError, match=match):
        predict_images(photos, counting, **params)


def test_classes_that_are_not_emotions_raise(photos):
    clf = DummyClassifier().fit(np.zeros((2, 2304)), [0, 9])

    with pytest.raises(ValueError, match="class 9 is not an emotion"):
        predict_images(photos / "astronaut.png", clf)


def test_empty_folder_raises(counting, tmp_path):
    with pytest.raises(ValueError, match="No image or video file found"):
        predict_images(tmp_path, counting)


def test_a_library_failure_on_one_file_names_the_file_step_and_version_and_the_rest_go_on(
    counting, photos, monkeypatch
):
    detector = FaceDetector()
    real_find = detector.find

    def find(gray):
        if gray.shape[:2] == skimage_data.rocket().shape[:2]:
            raise cv2.error("OpenCV(5.1.0) /io/resize.cpp:4155: error: (-215:Assertion failed) !ssize.empty()")
        return real_find(gray)

    monkeypatch.setattr(detector, "find", find)
    with pytest.warns(UserWarning, match="Skipped 1 of 2 files"):
        df = predict_images(photos, counting, detector=detector, all_files=True)
    status = dict(zip(df["file"], df["status"]))
    assert status[str(photos / "rocket.jpg")] == "failed" and status[str(photos / "astronaut.png")] == "ok"
    (error,) = [e["error"] for e in df.attrs["errors"] if e["file"] == str(photos / "rocket.jpg")]
    assert error.startswith(f"{photos / 'rocket.jpg'}: face detection and cropping failed (OpenCV {cv2.__version__})")
    assert "Assertion failed" in error and "\n" not in error


def test_a_prediction_failure_names_the_files_and_the_libraries(photos):
    class Broken(DummyClassifier):
        def predict_proba(self, X):
            raise ValueError("Input 0 is incompatible with the layer")

    broken = Broken().fit(np.zeros((2, 2304)), ["Happy", "Sad"])
    with pytest.raises(RuntimeError, match=rf"Predicting the faces of {photos / 'astronaut.png'} failed \(Broken.*ValueError: Input 0"):
        predict_images(photos / "astronaut.png", broken)


# -- explain: each face's saliency map on the photo's pixels ---------------------------------


def test_the_crop_geometry_redraws_the_face_from_the_photo(photos):
    gray = cv2.cvtColor(cv2.imread(str(photos / "astronaut.png")), cv2.COLOR_BGR2GRAY)
    tilted = cv2.warpAffine(gray, cv2.getRotationMatrix2D((256, 256), 25, 1.0), (512, 512))
    for image in (gray, tilted):
        for align in (True, False):
            face = FaceDetector(align=align).find(image)[0]
            redrawn = cv2.warpAffine(image, face.transform, (48, 48)).astype(float)
            assert np.corrcoef(redrawn.ravel(), face.image.ravel())[0, 1] > 0.99, (align, face.box)
            assert np.abs(redrawn - face.image).mean() < 5


def test_explain_gives_each_face_its_map_on_the_photo(pipeline, photos, tmp_path):
    df = predict_images([photos], pipeline, explain=True, annotate_dir=tmp_path / "explained")

    row = df.iloc[0]
    x, y, w, h = row["saliency_box"]
    window = row["saliency"]
    assert window.shape == (h, w) and window.dtype == np.float32
    assert 0 <= x and 0 <= y and x + w <= 512 and y + h <= 512
    # The crop's square (the face's box and a margin of 0.1 on each side) holds the map.
    side = max(row["w"], row["h"]) * 1.2
    assert side * side * 0.9 < w * h < side * side * 1.6  # turned a little: its bounding box is larger
    assert x <= row["x"] and row["x"] + row["w"] <= x + w and y <= row["y"] and row["y"] + row["h"] <= y + h
    ones = predict_images([photos / "astronaut.png"], pipeline, explain=True)
    assert np.array_equal(ones.loc[0, "saliency"], window)  # the same photo, the same map

    explained = cv2.imread(str(tmp_path / "explained" / "astronaut.png")).astype(int)
    annotated_dir = tmp_path / "annotated"
    predict_images([photos / "astronaut.png"], pipeline, annotate_dir=annotated_dir)
    annotated = cv2.imread(str(annotated_dir / "astronaut.png")).astype(int)
    changed = np.abs(explained - annotated).sum(axis=2) > 0
    inside = np.zeros_like(changed)
    inside[y : y + h, x : x + w] = True
    assert changed[inside].mean() > 0.1 and not changed[~inside].any()  # the map is blended in, nothing else


def test_a_map_of_ones_covers_the_crop_on_the_photo():
    from skfer.inference._photos import photo_map

    photo = np.zeros((200, 300), dtype=np.uint8)
    for align, eyes in ((False, []), (True, [110, 80, 150, 100])):  # eyes tilted by atan(20 / 40)
        face = FaceDetector(detector=lambda gray: [[100, 60, 60, 60, 0.9, *eyes]], margin=0.1,
                            align=align).find(photo)[0]
        window, (x, y, w, h) = photo_map(np.ones((48, 48)), face.transform, photo.shape)
        side = 60 * 1.2 if not align else np.ceil(60 * 1.2)
        assert window.sum() == pytest.approx(side * side, rel=0.06)
        assert window.max() <= 1 + 1e-6 and (window >= 0).all()
        cx, cy = x + (window * np.arange(w)).sum() / window.sum(), y + (window.T * np.arange(h)).sum() / window.sum()
        assert (cx, cy) == pytest.approx((129.5, 89.5), abs=1.0)  # centred on the box's centre


def test_explain_maps_video_frames_too(pipeline, tmp_path):
    video = _video(tmp_path / "clip.avi", n_frames=2)

    df = predict_images(video, pipeline, explain="occlusion")

    assert df["frame"].tolist() == [0, 1]
    for window, (x, y, w, h) in zip(df["saliency"], df["saliency_box"]):
        assert window.shape == (h, w) and np.abs(window).sum() > 0
        assert x <= df.loc[0, "x"] and df.loc[0, "x"] + df.loc[0, "w"] <= x + w <= 512


def test_explain_refuses_what_it_cannot_compute_before_reading_any_file(counting, tmp_path):
    with pytest.raises(ValueError, match="explain must be False, True, 'occlusion' or 'gradcam'; got 'lime'"):
        predict_images(tmp_path / "missing.png", counting, explain="lime")
    with pytest.raises(TypeError, match="CountingClassifier has no Keras network"):
        predict_images(tmp_path / "missing.png", counting, explain="gradcam")
