"""FaceDetector on real photos from scikit-image (a portrait and a face-free scene)."""

import cv2
import numpy as np
import pytest

from skfer.preprocessing import FaceDetector

pytestmark = pytest.mark.floor

skimage_data = pytest.importorskip("skimage.data")


@pytest.fixture(scope="module")
def astronaut():
    """A 512x512 RGB portrait of astronaut Eileen Collins (face in the upper middle)."""
    return skimage_data.astronaut()


@pytest.fixture(scope="module")
def coffee():
    """A 400x600 RGB photo of a cup of coffee, in which the Haar cascade finds no face."""
    return skimage_data.coffee()


def _png(path, rgb):
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return path


def _centre(box):
    x, y, w, h = box
    return x + w / 2, y + h / 2


def test_finds_the_astronauts_face(astronaut):
    faces = FaceDetector().detect([astronaut])

    assert len(faces) == 1
    cx, cy = _centre(faces[0].box)
    assert 190 < cx < 260 and 80 < cy < 150  # her face, not the flag or the suit
    assert 60 < faces[0].box[2] < 160
    assert faces[0].image.shape == (48, 48) and faces[0].image.dtype == np.uint8
    assert (faces[0].source, faces[0].name) == (0, "image 0")


def test_crop_gives_one_row_per_face_and_the_face_of_each_row(astronaut, coffee):
    detector = FaceDetector()
    with pytest.warns(UserWarning, match="No face found in 'image 0'"):
        X, faces = detector.crop([coffee, astronaut])

    assert X.shape == (1, 2304) and X.dtype == np.float32
    assert 0 <= X.min() and X.max() <= 255
    assert [face.source for face in faces] == [1]
    np.testing.assert_array_equal(X[0], faces[0].image.ravel())
    assert not [name for name in vars(detector) if name.endswith("_")]  # it keeps nothing of the images


def test_the_detector_stays_outside_pipelines():
    # An image gives any number of faces; a Pipeline's steps keep one row per input.
    assert not hasattr(FaceDetector(), "fit") and not hasattr(FaceDetector(), "transform")


def test_reads_photo_files_by_path(astronaut, tmp_path):
    path = _png(tmp_path / "astronaut.png", astronaut)

    from_file = FaceDetector().detect([path, str(path)])
    from_array = FaceDetector().detect([astronaut])

    assert [face.name for face in from_file] == [str(path), str(path)]
    assert from_file[0].box == from_array[0].box


def test_photo_without_face_gives_no_row_and_a_warning_naming_it(coffee, tmp_path):
    path = _png(tmp_path / "coffee.png", coffee)

    with pytest.warns(UserWarning, match="No face found in .*coffee.png"):
        X, faces = FaceDetector().crop([path])

    assert X.shape == (0, 2304) and faces == []


def test_rgba_and_gray_photos_give_the_same_face(astronaut):
    from skimage.color import rgb2gray

    rgba = np.dstack([astronaut, np.full(astronaut.shape[:2], 255, np.uint8)])
    gray_float = rgb2gray(astronaut)  # float64 in [0, 1]
    boxes = [FaceDetector().detect([image])[0].box for image in (astronaut, rgba, gray_float)]

    assert boxes[1] == boxes[0]
    assert np.allclose(boxes[2], boxes[0], atol=4)


def test_48x48_faces_pass_through_without_detection(tmp_path):
    rng = np.random.default_rng(0)
    faces = rng.integers(0, 256, size=(2, 48, 48), dtype=np.uint8)
    path = tmp_path / "face.png"
    cv2.imwrite(str(path), faces[0])

    def must_not_run(gray):
        raise AssertionError("the detector ran on a 48x48 face")

    detector = FaceDetector(detector=must_not_run)
    X, found = detector.crop(faces)

    np.testing.assert_array_equal(X, faces.reshape(2, -1))
    assert [face.box for face in found] == [(0, 0, 48, 48)] * 2
    np.testing.assert_array_equal(detector.detect([path])[0].image, faces[0])


def test_non_image_file_raises_naming_it(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a photo")

    with pytest.raises(ValueError, match="notes.txt.*not an image"):
        FaceDetector().crop([notes])
    with pytest.raises(ValueError, match="missing.jpg.*does not exist"):
        FaceDetector().detect([tmp_path / "missing.jpg"])


def test_callable_detector_gets_gray_uint8_and_its_boxes_are_cropped_with_margin():
    image = np.arange(100 * 120, dtype=np.uint32).reshape(100, 120) % 251
    image = image.astype(np.uint8)
    seen = []

    def detector(gray):
        seen.append(gray)
        return np.array([[50, 30, 20, 20], [0, 0, 40, 40]])

    faces = FaceDetector(detector=detector, margin=0.5, max_faces=1).detect([image])

    assert seen[0].dtype == np.uint8 and seen[0].shape == (100, 120)
    assert [face.box for face in faces] == [(0, 0, 40, 40)]  # the larger one
    expected = cv2.resize(image[0:60, 0:60], (48, 48), interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(faces[0].image, expected)  # 40 * (1 + 2 * 0.5), clipped


def test_margin_frames_a_square_around_the_box():
    image = np.random.default_rng(0).integers(0, 256, size=(100, 100), dtype=np.uint8)

    face = FaceDetector(detector=lambda gray: [(40, 45, 20, 10)], margin=0.25).detect([image])[0]

    expected = cv2.resize(image[35:65, 35:65], (48, 48), interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(face.image, expected)


@pytest.mark.parametrize(
    "boxes, match",
    [
        ([(1, 2, 3)], "shape \\(n_faces, 4\\)"),
        ([(1, 2, 3, 4, 0.5, 6)], "5 \\+ 2 \\* k"),
        ([(500, 500, 10, 10)], "does not cover any pixel"),
    ],
)
def test_bad_boxes_from_a_detector_raise(boxes, match):
    with pytest.raises(ValueError, match=match):
        FaceDetector(detector=lambda gray: boxes).detect([np.zeros((60, 60), np.uint8)])


@pytest.mark.parametrize(
    "X, match",
    [
        ([np.full((60, 60), 2.0)], "Image 0 is a float image with values outside \\[0, 1\\]"),
        ([np.zeros((60, 60, 2), np.uint8)], "Image 0 has shape \\(60, 60, 2\\)"),
        ("photo.jpg", "single path 'photo.jpg'"),
        (np.zeros((60, 60)), "shape \\(n, H, W\\)"),
    ],
)
def test_bad_images_raise_naming_them(X, match):
    with pytest.raises(ValueError, match=match):
        FaceDetector().detect(X)


def test_invalid_parameters_raise():
    image = [np.zeros((60, 60), np.uint8)]
    with pytest.raises(ValueError, match="margin"):
        FaceDetector(margin=-0.1).detect(image)
    with pytest.raises(ValueError, match="min_confidence"):
        FaceDetector(min_confidence=1.5).detect(image)
    with pytest.raises(ValueError, match="align"):
        FaceDetector(align="yes").detect(image)
    with pytest.raises(ValueError, match="detector"):
        FaceDetector(detector="dlib").crop(image)


def _rotated(image, angle, centre):
    """The image rotated by ``angle`` degrees (counter-clockwise) about ``centre``."""
    rotation = cv2.getRotationMatrix2D(centre, angle, 1.0)
    return cv2.warpAffine(image, rotation, image.shape[1::-1], borderMode=cv2.BORDER_REPLICATE)


def test_tiles_find_a_face_too_small_for_one_pass_over_the_photo(astronaut):
    gray = cv2.cvtColor(astronaut, cv2.COLOR_RGB2GRAY)
    x, y, w, h = (round(v) for v in FaceDetector().detect([gray])[0].box)
    head = gray[y - h // 2 : y + h + h // 2, x - w // 2 : x + w + w // 2]
    small = cv2.resize(head, None, fx=70 / w, fy=70 / w, interpolation=cv2.INTER_AREA)  # a 70-pixel face
    photo = np.full((600, 600), 128, np.uint8)
    photo[380 : 380 + small.shape[0], 380 : 380 + small.shape[1]] = small
    with pytest.warns(UserWarning, match="No face found"):
        assert FaceDetector().detect([photo]) == []
    (face,) = FaceDetector(tiles=2).detect([photo])
    centre = (face.box[0] + face.box[2] / 2, face.box[1] + face.box[3] / 2)
    assert np.hypot(centre[0] - (380 + small.shape[1] / 2), centre[1] - (380 + small.shape[0] / 2)) < 15
    assert 50 < face.box[2] < 90
    assert FaceDetector(tiles=2).detect([gray])[0].box == pytest.approx((x, y, w, h), abs=8)  # the big face too


def test_blazeface_gives_score_and_keypoints_in_the_photos_pixels(astronaut):
    face = FaceDetector(detector="blazeface").detect([astronaut])[0]

    assert 0.6 < face.score <= 1
    assert face.keypoints.shape == (6, 2) and len(FaceDetector.KEYPOINTS) == 6
    points = dict(zip(FaceDetector.KEYPOINTS, face.keypoints))
    x, y, w, h = face.box
    assert all(x <= px <= x + w and y <= py <= y + h for px, py in face.keypoints[:4])
    assert points["right_eye"][0] < points["nose_tip"][0] < points["left_eye"][0]  # she faces us
    assert points["right_eye"][1] < points["nose_tip"][1] < points["mouth_centre"][1]


@pytest.mark.parametrize("angle", [-30, -15, 15, 30])
def test_alignment_turns_a_tilted_face_upright(astronaut, angle):
    gray = cv2.cvtColor(astronaut, cv2.COLOR_RGB2GRAY)
    upright = FaceDetector().detect([gray])[0]
    tilted = _rotated(gray, angle, tuple(float(v) for v in upright.keypoints[2]))

    aligned = FaceDetector().detect([tilted])[0]
    as_found = FaceDetector(align=False).detect([tilted])[0]

    def eyes_angle(face):
        (rx, ry), (lx, ly) = face.keypoints[:2]
        return np.degrees(np.arctan2(ly - ry, lx - rx))

    def likeness(face):
        return np.corrcoef(face.image.ravel().astype(float), upright.image.ravel())[0, 1]

    assert abs(eyes_angle(aligned) - (eyes_angle(upright) - angle)) < 10  # keypoints turned too
    # Framed by the level face's box, the crop looks like the upright one (0.83-0.96; 0.61-0.86
    # when the tilted face's own box framed it).
    assert likeness(aligned) > max(0.8, likeness(as_found) + 0.15)


def test_alignment_uses_the_eyes_a_callable_detector_gives():
    image = np.full((100, 100), 30, np.uint8)
    cv2.line(image, (30, 30), (70, 70), 220, 5)  # a bar at 45 degrees, down to the right

    def detector(gray):  # box, score, then the right and left eye along the bar
        return [[30, 30, 40, 40, 0.9, 35, 35, 65, 65]]  # on its second look too: no level face there

    face = FaceDetector(detector=detector, margin=0.0).detect([image])[0]

    assert face.score == pytest.approx(0.9)
    np.testing.assert_array_equal(face.keypoints, [[35, 35], [65, 65]])
    rows = face.image[:, 8:40].astype(float).mean(axis=1)
    assert rows[22:26].min() > 150 and rows[:12].max() < 60  # the bar now runs level


def test_min_confidence_and_max_faces_choose_the_faces():
    boxes = [[0, 0, 60, 60, 0.9], [60, 60, 80, 80, 0.4], [10, 60, 50, 50, 0.7]]
    image = np.zeros((150, 150), np.uint8)

    def found(**params):
        faces = FaceDetector(detector=lambda gray: boxes, **params).detect([image])
        return [(face.box[2], face.score) for face in faces]

    assert found() == [(60, 0.9), (50, 0.7)]  # the largest first; 0.4 < 0.6
    assert found(min_confidence=0.0) == [(80, 0.4), (60, 0.9), (50, 0.7)]
    assert found(min_confidence=0.8) == [(60, 0.9)]
    assert found(max_faces=1) == [(60, 0.9)]


def test_min_size_drops_smaller_faces_of_the_built_in_detector(astronaut):
    side = FaceDetector().detect([astronaut])[0].box[2]

    assert FaceDetector(min_size=side + 10).find(astronaut) == []


def test_boxes_without_scores_are_kept_with_nan_score():
    face = FaceDetector(detector=lambda gray: [(10, 10, 50, 50)], min_confidence=1.0).detect(
        [np.zeros((80, 80), np.uint8)]
    )[0]

    assert np.isnan(face.score) and face.keypoints.shape == (0, 2)


def test_haar_cascade_ships_with_skfer_or_names_the_alternative(astronaut):
    if not hasattr(cv2, "CascadeClassifier"):  # opencv-python-headless 5
        with pytest.raises(RuntimeError, match="detector='blazeface'.*opencv-contrib"):
            FaceDetector(detector="haar").detect([astronaut])
        return
    face = FaceDetector(detector="haar").detect([astronaut])[0]
    assert 190 < _centre(face.box)[0] < 260 and np.isnan(face.score)
    assert face.keypoints.shape == (0, 2)


def test_a_used_detector_pickles_and_finds_the_same_faces(astronaut):
    import pickle

    from sklearn.base import clone

    detector = FaceDetector()
    first = detector.detect([astronaut])[0]
    for copy in (pickle.loads(pickle.dumps(detector)), clone(detector)):
        again = copy.detect([astronaut])[0]
        assert again.box == first.box
        np.testing.assert_array_equal(again.image, first.image)


def test_changed_parameters_take_effect_on_the_next_call(astronaut, coffee):
    detector = FaceDetector(min_confidence=0.0)
    assert len(detector.find(coffee)) > 0  # low-scored guesses at 0

    detector.set_params(min_confidence=0.99)
    assert detector.find(astronaut) == []


def test_boxes_and_keypoints_map_back_through_the_letterbox(astronaut):
    wide = cv2.copyMakeBorder(astronaut, 40, 0, 0, 120, cv2.BORDER_CONSTANT, value=(90, 90, 90))

    square, padded = (FaceDetector().detect([image])[0] for image in (astronaut, wide))

    side = square.box[2]
    assert np.abs(np.array(padded.box) - np.add(square.box, (0, 40, 0, 0))).max() <= 0.05 * side
    # keypoints wander more than boxes with the face's scale in the network's 128x128 input
    assert np.abs(padded.keypoints - square.keypoints - (0, 40)).max() <= 0.2 * side


def test_weighted_nms_merges_overlapping_boxes_by_score():
    from skfer.preprocessing._blazeface import _weighted_nms

    corners = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60]], dtype=float)
    points = np.zeros((3, 6, 2)) + np.array([0.0, 3.0, 9.0])[:, None, None]
    scores = np.array([0.9, 0.6, 0.7])

    kept, kept_points, kept_scores = _weighted_nms(corners, points, scores)

    np.testing.assert_allclose(kept, [[0.4, 0, 10.4, 10], [50, 50, 60, 60]])
    np.testing.assert_allclose(kept_points[:, 0, 0], [1.2, 9.0])  # (0.9 * 0 + 0.6 * 3) / 1.5
    np.testing.assert_allclose(kept_scores, [0.9, 0.7])
