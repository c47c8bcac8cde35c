"""load_image_folder and FaceFolderDataset: your own faces from a folder of photos."""

import warnings

import cv2
import numpy as np
import pytest

from skfer import EMOTIONS
from skfer.datasets import load_image_folder
from skfer.preprocessing import FaceDetector

from .conftest import TINY

NOT_AN_IMAGE = "not an image OpenCV or Pillow can read"


def _write(path, image):
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), image)


@pytest.fixture
def folder(tmp_path):
    """happy/ and sad/ with 4 images each in three formats and sizes, plus one bad file."""
    rng = np.random.default_rng(0)
    for emotion, level in (("happy", 200), ("Sad", 30)):
        for i, (ext, shape) in enumerate(
            [("png", (48, 48)), ("jpg", (100, 80, 3)), ("bmp", (64, 64)), ("png", (30, 60, 4))]
        ):
            image = np.clip(rng.normal(level, 10, shape), 0, 255).astype(np.uint8)
            _write(tmp_path / emotion / f"{i}.{ext}", image)
    (tmp_path / "happy" / "notes.txt").write_text("not an image")
    (tmp_path / "happy" / ".DS_Store").write_bytes(b"\0\1")
    return tmp_path


def test_images_as_faces_labels_and_shapes(folder):
    with pytest.warns(UserWarning, match=r"Skipped 1 of 9 files .*not an image.*notes\.txt"):
        faces = load_image_folder(folder, crop=False)
    assert faces.data.shape == (8, 2304) and faces.data.dtype == np.uint8
    assert faces.images.shape == (8, 48, 48)
    assert np.shares_memory(faces.images, faces.data)
    assert faces.target_names == list(EMOTIONS)
    assert faces.target.tolist() == [EMOTIONS.index("Happy")] * 4 + [EMOTIONS.index("Sad")] * 4
    happy = faces.data[faces.target == 3].mean()
    sad = faces.data[faces.target == 4].mean()
    assert happy > 150 and sad < 60  # the pixels are the files', in gray
    first = [name.split("/")[-2:] for name in faces.filenames[:2]]
    assert first == [["happy", "0.png"], ["happy", "1.jpg"]]
    assert faces.skipped == [(str(folder / "happy" / "notes.txt"), NOT_AN_IMAGE)]
    assert set(faces) >= {"data", "target", "target_names", "usage", "DESCR"}  # load_fer2013's keys


def test_gif_read_through_pillow(tmp_path):
    from PIL import Image

    for emotion in ("angry", "fear"):
        (tmp_path / emotion).mkdir()
        Image.fromarray(np.full((60, 60), 90, np.uint8)).save(tmp_path / emotion / "a.gif")
    X, y = load_image_folder(tmp_path, crop=False, return_X_y=True)
    assert X.shape == (2, 2304) and y.tolist() == [0, 2]
    assert abs(float(X.mean()) - 90) < 2


def test_detected_faces_are_cropped_and_faceless_images_reported(folder):
    box = {"calls": 0}

    def detector(gray):
        box["calls"] += 1
        h, w = gray.shape
        return [] if h == 64 else [(w // 4, h // 4, w // 2, h // 2)]

    summary = r"Skipped 3 of 9 files.*2 no face found \(2\.bmp, 2\.bmp\)"
    with pytest.warns(UserWarning, match=summary):
        faces = load_image_folder(folder, detector=FaceDetector(detector, margin=0.0))
    assert faces.data.shape == (6, 2304)
    assert box["calls"] == 6  # 48x48 images are taken as faces, the rest searched
    assert not any(f.endswith("2.bmp") for f in faces.filenames)


def test_classes_select_and_label_folders(folder):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        faces = load_image_folder(folder, classes=["Sad", "happy"], crop=False, n_jobs=2)
    assert faces.target_names == ["Sad", "happy"]
    assert faces.target.tolist() == [0] * 4 + [1] * 4
    assert all("/Sad/" in name for name in faces.filenames[faces.target == 0])


def test_bad_layouts_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_image_folder(tmp_path / "nope")
    (tmp_path / "smile").mkdir()
    (tmp_path / "happy").mkdir()
    with pytest.raises(ValueError, match=r"\['smile'\] are not emotions.*classes="):
        load_image_folder(tmp_path)
    with pytest.raises(ValueError, match=r"\['grin'\] that"):
        load_image_folder(tmp_path, classes=["grin"])
    with pytest.raises(ValueError, match="No face loaded from the 0 files"):
        load_image_folder(tmp_path, classes=["smile", "happy"])


def test_face_folder_dataset_streams_batches_and_trains(folder):
    from skfer import FERClassifier
    from skfer import fit_dataset
    from skfer.datasets import FaceFolderDataset

    data = FaceFolderDataset(folder, crop=False, batch_size=3, random_state=0)
    assert len(data) == 3 and data.classes_.tolist() == [3, 4]
    first = list(data.filenames)
    batches = [data[i] for i in range(len(data))]
    assert sum(len(X) for X, _ in batches) == 8  # notes.txt left out of its batch
    assert all(X.dtype == np.float32 and X.max() <= 1 for X, _ in batches)
    labels = np.concatenate([y for _, y in batches])
    assert sorted(labels.tolist()) == [0] * 4 + [1] * 4
    with pytest.warns(UserWarning, match="notes.txt"):
        data.on_epoch_end()
    assert data.filenames != first  # a new order each epoch

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf = fit_dataset(FERClassifier(**{**TINY, "epochs": 2}, random_state=0), data)
    assert not [w for w in caught if "Skipped" in str(w.message)]  # reported once, above
    assert data.skipped == [(str(folder / "happy" / "notes.txt"), NOT_AN_IMAGE)]
    assert len(clf.history_["loss"]) == 2
    X = np.concatenate([X for X, _ in batches])
    assert set(clf.predict(X).tolist()) <= {3, 4}
    assert clf.predict_proba(X).shape == (8, 2)
