import numpy as np
import pytest

from skfer import EMOTIONS
from skfer.pretrained import load_pretrained


@pytest.fixture(scope="module")
def model():
    return load_pretrained()


@pytest.fixture
def generated():
    """Eight generated 48x48 faces with pixel values 0-255."""
    return np.random.default_rng(0).integers(0, 256, size=(8, 48, 48)).astype(np.uint8)


def test_fitted_pipeline_with_fer2013_labels_in_emotions_order(model):
    assert list(model.classes_) == list(range(len(EMOTIONS)))
    assert model[-1].n_features_in_ == 2304
    assert model.predict(np.zeros((1, 2304)))[0] in range(len(EMOTIONS))


def test_probabilities_on_generated_faces_of_every_shape(model, generated):
    proba = model.predict_proba(generated)
    assert proba.shape == (8, len(EMOTIONS))
    assert (proba >= 0).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    for shape in [(8, 2304), (8, 48, 48, 1)]:
        np.testing.assert_allclose(model.predict_proba(generated.reshape(shape)), proba, rtol=1e-5)
    labels = model.classes_[proba.argmax(axis=1)]
    np.testing.assert_array_equal(model.predict(generated), labels)


def test_pixel_strings_give_the_same_answers_as_arrays(model, generated):
    strings = [" ".join(map(str, face.ravel())) for face in generated]
    np.testing.assert_allclose(model.predict_proba(strings), model.predict_proba(generated), rtol=1e-5)


def test_refuses_faces_already_scaled_to_0_1(model, generated):
    # Such faces would all come out as one emotion; the pipeline refuses them and says why.
    with pytest.raises(ValueError, match=r"8 of 8 faces in X have no value above 1.*already scaled"):
        model.predict(generated / 255)


def test_a_rounding_error_outside_0_255_is_clipped_and_real_out_of_range_values_refused(model, generated):
    faces = generated.reshape(len(generated), -1).astype(np.float32)
    rounded = faces.copy()
    rounded[0, 0], rounded[1, 5] = 255.00002, -1e-4  # a resize in float32 leaves such values
    np.testing.assert_allclose(model.predict_proba(rounded), model.predict_proba(np.clip(rounded, 0, 255)))
    faces[2, 7] = 300.0
    with pytest.raises(ValueError, match="row 2 has the value 300.0 at pixel 7"):
        model.predict(faces)


def test_loads_the_same_model_every_time(model, generated):
    np.testing.assert_allclose(load_pretrained().predict_proba(generated), model.predict_proba(generated))


def test_recognizes_real_publictest_faces(model, real_faces):
    _, _, X_val, y_val = real_faces
    proba = model.predict_proba(X_val)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    accuracy = np.mean(model.predict(X_val) == y_val)
    # A behaviour check on 200 faces: chance is 1/7, always 'Happy' about 1/4.
    assert accuracy > 0.5
    # The loader's integer labels and emotion names score alike (it used to
    # raise "casting from int64 to <U8 is not safe").
    assert model.score(X_val, y_val) == accuracy
    assert model.score(X_val, np.asarray(EMOTIONS)[y_val]) == accuracy


def test_confusion_matrix_display_takes_the_loaders_labels(model, real_faces):
    from sklearn.metrics import ConfusionMatrixDisplay

    _, _, X_val, y_val = real_faces
    display = ConfusionMatrixDisplay.from_estimator(model, X_val, y_val, display_labels=EMOTIONS)
    assert display.confusion_matrix.shape == (7, 7)
    assert display.confusion_matrix.sum() == len(y_val)


def test_unknown_names_are_refused_and_no_ensemble_is_shipped():
    # The ensemble rule (benchmarks/tta_fer2013.py) withdrew load_pretrained("ensemble").
    for name in ("best", "ensemble"):
        with pytest.raises(ValueError, match=rf"Unknown pretrained model '{name}'; choose one of \['crop_cosine'"):
            load_pretrained(name)


def test_the_onnx_model_answers_as_the_default_path_without_tensorflow(model, generated):
    import subprocess
    import sys

    from skfer.pretrained import load_pretrained_onnx

    np.testing.assert_array_equal(load_pretrained_onnx().predict_proba(generated), model.predict_proba(generated))
    code = "import sys; from skfer import load_pretrained_onnx; load_pretrained_onnx(); assert 'keras' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
