"""export_onnx and ONNXEmotionPredictor: same probabilities as Keras, no TensorFlow needed."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from skfer import FERClassifier, PixelNormalizer, make_fer_pipeline
from skfer.inference._onnx import ONNXEmotionPredictor, export_onnx

from .conftest import TINY

pytestmark = pytest.mark.floor


RNG = np.random.default_rng(0)
#: Faces with pixel values 0-255, as arrays and as FER2013 pixel strings.
FACES = RNG.integers(0, 256, size=(40, 2304)).astype(np.float32)
STRINGS = np.array([" ".join(map(str, face.astype(int))) for face in FACES], dtype=object)


@pytest.fixture(scope="module")
def tiny():
    """A tiny fitted pipeline that standardizes (so the normalizer is not a plain /255)."""
    pipe = make_fer_pipeline(FERClassifier(**TINY, random_state=0), normalize="standardize")
    return pipe.fit(FACES, np.arange(len(FACES)) % 7)


@pytest.fixture(scope="module")
def tiny_file(tiny, tmp_path_factory):
    return export_onnx(tiny, tmp_path_factory.mktemp("onnx") / "tiny.onnx")


def test_exported_pipeline_predicts_like_keras(tiny, tiny_file):
    predictor = ONNXEmotionPredictor(tiny_file).fit()

    np.testing.assert_array_equal(predictor.classes_, tiny.classes_)
    for X in (FACES, FACES.reshape(-1, 48, 48), STRINGS):
        np.testing.assert_allclose(predictor.predict_proba(X), tiny.predict_proba(X), atol=1e-5)
    np.testing.assert_array_equal(predictor.predict(FACES), tiny.predict(FACES))
    assert predictor.predict_proba(FACES[:0]).shape == (0, 7)


def test_batch_size_and_threads_change_nothing(tiny, tiny_file):
    small = ONNXEmotionPredictor(tiny_file, n_threads=1, batch_size=7).fit()

    np.testing.assert_allclose(small.predict_proba(FACES), tiny.predict_proba(FACES), atol=1e-5)


def test_exported_classifier_takes_what_the_classifier_takes(tiny, tmp_path):
    normalized = tiny[:-1].transform(FACES)
    predictor = ONNXEmotionPredictor(export_onnx(tiny[-1], tmp_path / "clf.onnx")).fit()

    assert normalized.min() < 0  # standardized: not pixel values
    np.testing.assert_allclose(
        predictor.predict_proba(normalized), tiny[-1].predict_proba(normalized), atol=1e-5
    )


def test_pretrained_model_exports_with_the_same_probabilities(tmp_path):
    from skfer.pretrained import load_pretrained

    # The export computes in float32 whatever dtype the pipeline predicts in.
    pretrained = load_pretrained().set_params(ferclassifier__predict_dtype="float32")
    predictor = ONNXEmotionPredictor(export_onnx(pretrained, tmp_path / "fer.onnx")).fit()

    expected = pretrained.predict_proba(FACES)
    np.testing.assert_allclose(predictor.predict_proba(FACES), expected, atol=1e-5)
    assert predictor.classes_.tolist() == pretrained.classes_.tolist()


def test_int8_export_predicts_close_to_float32_in_a_quarter_of_the_file(tmp_path):
    from skfer.pretrained import load_pretrained

    pretrained = load_pretrained()
    float_file = export_onnx(pretrained, tmp_path / "fer.onnx")
    int8_file = export_onnx(pretrained, tmp_path / "fer-int8.onnx", quantize="int8", calibration=STRINGS)
    exact = ONNXEmotionPredictor(float_file).fit()
    int8 = ONNXEmotionPredictor(int8_file).fit()

    assert (exact.precision_, int8.precision_) == ("float32", "int8")
    np.testing.assert_array_equal(int8.classes_, exact.classes_)
    assert int8_file.stat().st_size < 0.35 * float_file.stat().st_size
    proba, expected = int8.predict_proba(FACES), exact.predict_proba(FACES)
    assert not np.array_equal(proba, expected)  # really computed in 8 bits
    np.testing.assert_allclose(proba, expected, atol=0.1)
    assert np.mean(proba.argmax(1) == expected.argmax(1)) >= 0.9


def test_int8_export_needs_calibration_faces(tiny, tmp_path):
    with pytest.raises(ValueError, match="calibration faces"):
        export_onnx(tiny, tmp_path / "x.onnx", quantize="int8")
    with pytest.raises(ValueError, match="2304 pixels"):
        export_onnx(tiny[-1], tmp_path / "x.onnx", quantize="int8", calibration=np.ones((3, 10)))


def test_predictor_never_imports_tensorflow(tiny, tiny_file, tmp_path):
    import cv2
    import skimage.data

    photo = tmp_path / "astronaut.png"
    cv2.imwrite(str(photo), cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2BGR))
    np.save(tmp_path / "faces.npy", FACES)
    script = textwrap.dedent(f"""
        import sys
        import numpy as np
        from skfer.inference._onnx import ONNXEmotionPredictor
        from skfer.inference._photos import predict_images
        predictor = ONNXEmotionPredictor({str(tiny_file)!r}).fit()
        np.save({str(tmp_path / "proba.npy")!r}, predictor.predict_proba(np.load({str(tmp_path / "faces.npy")!r})))
        assert len(predict_images({str(photo)!r}, predictor)) == 1
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))
        assert not loaded, loaded
    """)

    subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True)

    np.testing.assert_allclose(np.load(tmp_path / "proba.npy"), tiny.predict_proba(FACES), atol=1e-5)


def test_export_refuses_what_it_cannot_export(tiny, tmp_path):
    from sklearn.decomposition import PCA
    from sklearn.pipeline import make_pipeline

    with pytest.raises(ValueError, match="step 'pca' \\(PCA\\)"):
        export_onnx(make_pipeline(PCA(), tiny[-1]), tmp_path / "x.onnx")
    with pytest.raises(NotFittedError):
        export_onnx(make_fer_pipeline(FERClassifier(**TINY)), tmp_path / "x.onnx")
    with pytest.raises(NotFittedError):
        export_onnx(make_pipeline(PixelNormalizer(), tiny[-1]), tmp_path / "x.onnx")


def test_predictor_refuses_missing_and_foreign_files(tiny_file, tmp_path):
    import onnx

    with pytest.raises(ValueError, match="missing.onnx' does not exist"):
        ONNXEmotionPredictor(tmp_path / "missing.onnx").fit()
    foreign = onnx.load(str(tiny_file))
    del foreign.metadata_props[:]
    onnx.save(foreign, str(tmp_path / "foreign.onnx"))
    with pytest.raises(ValueError, match="no skfer metadata"):
        ONNXEmotionPredictor(tmp_path / "foreign.onnx").fit()
    with pytest.raises(NotFittedError):
        ONNXEmotionPredictor(tiny_file).predict(FACES)
    with pytest.raises(ValueError, match="row 0 has the value 300.0"):
        ONNXEmotionPredictor(tiny_file).fit().predict(np.full((1, 2304), 300.0))


def test_the_exported_graph_holds_the_flip_and_refuses_ten_crops(tiny, tmp_path):
    import copy

    flipping = copy.deepcopy(tiny).set_params(ferclassifier__tta="flip")
    assert np.abs(flipping.predict_proba(FACES) - tiny.predict_proba(FACES)).max() > 1e-3  # the flip matters
    predictor = ONNXEmotionPredictor(export_onnx(flipping, tmp_path / "flip.onnx")).fit()
    np.testing.assert_allclose(predictor.predict_proba(FACES), flipping.predict_proba(FACES), atol=1e-4)

    ten_crops = copy.deepcopy(tiny).set_params(ferclassifier__tta="ten_crop")
    with pytest.raises(ValueError, match="cannot put tta='ten_crop' into the ONNX graph"):
        export_onnx(ten_crops, tmp_path / "ten.onnx")


def test_a_pickled_predictor_predicts_the_same_after_its_file_is_gone(tmp_path):
    import pickle
    import shutil

    from skfer.pretrained._cards import DEFAULT_MODEL, engine_file, read_card, shipped_file

    path = tmp_path / "model.onnx"
    shutil.copyfile(shipped_file(engine_file(read_card(DEFAULT_MODEL))), path)
    predictor = ONNXEmotionPredictor(path, n_threads=1).fit()
    faces = np.random.default_rng(0).integers(0, 256, (5, 2304)).astype(np.float32)
    expected = predictor.predict_proba(faces)
    blob = pickle.dumps(predictor)
    assert hasattr(predictor, "session_")  # pickling leaves the original whole
    path.unlink()
    restored = pickle.loads(blob)
    np.testing.assert_array_equal(restored.predict_proba(faces), expected)
    assert restored.get_params() == predictor.get_params()
    assert pickle.loads(pickle.dumps(ONNXEmotionPredictor(path))).path == path  # unfitted: parameters only
