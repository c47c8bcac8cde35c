"""Real files as users have them, made here from the astronaut photo that ships with scikit-image.

Each variant goes through ``predict_images`` (the code behind ``skfer
predict``) with ``all_files=True``: every decodable variant gives the
astronaut's face, and the files that cannot be read give a status row
naming why, while the other files are still processed. The classification
checks use the shipped pretrained model and need TensorFlow; the detection
checks run on any OpenCV (CI's OpenCV 4.x leg has no TensorFlow).
"""

import cv2
import numpy as np
import pytest

from skfer.inference._photos import NO_FACE, UNREADABLE, predict_images

pytestmark = pytest.mark.floor

skimage_data = pytest.importorskip("skimage.data")

#: Variants decoded to the astronaut's face (name -> file name).
DECODABLE = {
    "png": "astronaut.png",
    "grayscale jpeg": "gray.jpg",
    "16-bit png": "deep.png",
    "png with alpha": "alpha.png",
    "exif-rotated jpeg": "phone.jpg",
    "3000x3000 photo": "large.jpg",
}


def _exif_rotated_jpeg(bgr):
    """A JPEG stored turned a quarter left with an EXIF Orientation of 6, as phones write portraits."""
    ok, jpeg = cv2.imencode(".jpg", cv2.rotate(bgr, cv2.ROTATE_90_COUNTERCLOCKWISE))
    assert ok
    # APP1 Exif segment: a little-endian TIFF header and one IFD entry, Orientation (0x0112) = 6.
    tiff = b"II*\x00\x08\x00\x00\x00" + b"\x01\x00" + b"\x12\x01\x03\x00\x01\x00\x00\x00\x06\x00\x00\x00"
    tiff += b"\x00\x00\x00\x00"
    payload = b"Exif\x00\x00" + tiff
    app1 = b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload
    data = jpeg.tobytes()
    return data[:2] + app1 + data[2:]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("real_files")
    bgr = cv2.cvtColor(skimage_data.astronaut(), cv2.COLOR_RGB2BGR)
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    cv2.imwrite(str(folder / "astronaut.png"), bgr)
    cv2.imwrite(str(folder / "gray.jpg"), gray)
    cv2.imwrite(str(folder / "deep.png"), bgr.astype(np.uint16) * 257)
    alpha = np.full(bgr.shape[:2], 255, np.uint8)
    alpha[:, : bgr.shape[1] // 8] = 0  # a transparent strip, away from the face
    cv2.imwrite(str(folder / "alpha.png"), np.dstack([bgr, alpha]))
    (folder / "phone.jpg").write_bytes(_exif_rotated_jpeg(bgr))
    cv2.imwrite(str(folder / "large.jpg"), cv2.resize(bgr, (3000, 3000), interpolation=cv2.INTER_CUBIC))
    cv2.imwrite(str(folder / "dot.png"), np.zeros((1, 1, 3), np.uint8))
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "text.png").write_text("this is not a picture\n")
    writer = cv2.VideoWriter(str(folder / "clip.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, bgr.shape[1::-1])
    assert writer.isOpened(), "OpenCV cannot write MJPG videos here"
    for _ in range(3):
        writer.write(bgr)
    writer.release()
    return folder


def test_the_exif_orientation_is_applied(files):
    assert cv2.imread(str(files / "phone.jpg")).shape[:2] == (512, 512)
    phone = cv2.imread(str(files / "phone.jpg"), cv2.IMREAD_GRAYSCALE)
    upright = cv2.imread(str(files / "astronaut.png"), cv2.IMREAD_GRAYSCALE)
    assert np.corrcoef(phone.ravel(), upright.ravel())[0, 1] > 0.99


@pytest.fixture(scope="module")
def table(files):
    """predict_images over the folder with a classifier that needs no TensorFlow (detection only)."""
    from sklearn.dummy import DummyClassifier

    dummy = DummyClassifier().fit(np.zeros((2, 2304)), ["Happy", "Sad"])
    with pytest.warns(UserWarning, match="Skipped 2 of 10 files"):
        return predict_images(files, dummy, all_files=True)


#: How much larger than the 512x512 photo each variant is.
SCALE = {"large.jpg": 3000 / 512}


def test_every_decodable_variant_gives_the_astronauts_face(table, files):
    box = ["x", "y", "w", "h"]
    expected = table.loc[table["file"] == str(files / "astronaut.png"), box].to_numpy(float)
    assert expected.shape == (1, 4) and expected[0, 2] > 80  # her face, not a speck
    for variant, name in DECODABLE.items():
        rows = table[table["file"] == str(files / name)]
        assert list(rows["status"]) == ["ok"], variant
        found = rows[box].to_numpy(float) / SCALE.get(name, 1)
        np.testing.assert_allclose(found, expected, atol=8, err_msg=variant)
    video = table[table["file"] == str(files / "clip.avi")]
    assert list(video["frame"]) == [0, 1, 2] and (video["status"] == "ok").all()


def test_files_without_a_face_or_unreadable_get_a_status_row(table, files):
    status = dict(zip(table["file"], table["status"]))
    assert status[str(files / "dot.png")] == NO_FACE
    assert status[str(files / "empty.jpg")] == UNREADABLE
    assert status[str(files / "text.png")] == UNREADABLE
    errors = {error["file"]: error["error"] for error in table.attrs["errors"]}
    assert "not an image OpenCV can read" in errors[str(files / "text.png")]


def test_the_pretrained_model_says_happy_in_every_decodable_variant(files):
    pytest.importorskip("tensorflow")
    pytest.importorskip("scikeras")
    paths = [files / name for name in DECODABLE.values()] + [files / "clip.avi"]
    from skfer import load_pretrained

    table = predict_images(paths, load_pretrained())
    assert set(table["file"]) == set(map(str, paths))
    assert (table.groupby("file")["emotion"].agg(lambda e: set(e)) == {"Happy"}).all(), table[["file", "emotion"]]
