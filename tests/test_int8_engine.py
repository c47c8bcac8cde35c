"""predict_dtype="int8": the ONNX Runtime engine a fit makes, and the one shipped with each pretrained model."""

import pickle
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from skfer import FERClassifier
from skfer.inference._engine import Int8Engine, WeightsFingerprint
from skfer.pretrained import MODELS, load_pretrained
from skfer.pretrained import _cards

from .conftest import TINY


@pytest.fixture(scope="module")
def int8_fit():
    rng = np.random.default_rng(0)
    X, y = rng.random((60, 2304), dtype=np.float32), np.arange(60) % 3
    return FERClassifier(**TINY, random_state=0, predict_dtype="int8").fit(X, y), X, y


def test_a_fit_ends_with_an_engine_close_to_the_float_network(int8_fit):
    clf, X, _ = int8_fit
    clf = pickle.loads(pickle.dumps(clf))
    assert clf.predictor_ is clf.engine_
    int8 = clf.predict_proba(X)
    exact = clf.set_params(predict_dtype="float32").predict_proba(X)
    np.testing.assert_allclose(int8.sum(axis=1), 1, atol=1e-5)  # the softmax stays in float
    assert np.abs(int8 - exact).max() < 0.05
    assert not np.array_equal(int8, exact)  # it is the 8-bit network that answered


def test_the_engine_survives_pickling_and_a_new_fit_replaces_it(int8_fit):
    clf, X, y = int8_fit
    clf = pickle.loads(pickle.dumps(clf))
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    before = clf.engine_
    clf.partial_fit(X, y)
    assert clf.engine_ is not before and clf.engine_.onnx_bytes != before.onnx_bytes
    assert "engine_" not in vars(clone(clf))


def test_a_float_fit_drops_the_engine_and_int8_then_says_a_fit_must_make_one(int8_fit):
    clf, X, y = int8_fit
    clf = pickle.loads(pickle.dumps(clf)).set_params(predict_dtype="float32").fit(X, y)
    assert not hasattr(clf, "engine_")
    clf.set_params(predict_dtype="int8")
    with pytest.raises(ValueError, match='Fit it with predict_dtype="int8"'):
        clf.predict(X)


def test_int8_without_the_converter_fails_before_training(monkeypatch, faces):
    for module in ("onnx", "tf2onnx"):
        monkeypatch.setitem(sys.modules, module, None)  # as if not installed
    X, y = faces
    clf = FERClassifier(**TINY, predict_dtype="int8")
    with pytest.raises(ImportError, match=r'"int8"\) needs the onnx package, a dependency of skfer'):
        clf.fit(X / 255, y)
    assert not hasattr(clf, "history_")


def test_pretrained_models_predict_with_their_shipped_engines(real_faces):
    faces = real_faces[2]  # 200 PublicTest faces
    for name in MODELS:
        model = load_pretrained(name)
        classifier = model[-1]
        assert classifier.predict_dtype == "int8" and classifier.predictor_ is classifier.engine_
        exact = load_pretrained(name, predict_dtype="float32").predict_proba(faces)
        int8 = model.predict_proba(faces)
        np.testing.assert_allclose(int8.sum(axis=1), 1, atol=1e-5)
        assert np.mean(int8.argmax(axis=1) == exact.argmax(axis=1)) >= 0.95
        assert np.abs(int8 - exact).mean() < 0.01
        # set back to float32, the same pipeline predicts exactly again
        model.set_params(ferclassifier__predict_dtype="float32")
        np.testing.assert_allclose(model.predict_proba(faces), exact, atol=1e-6)


def test_an_unknown_predict_dtype_is_refused_when_loading():
    with pytest.raises(ValueError, match=r"predict_dtype must be one of \['int8', 'float32', 'bfloat16', 'auto'\]; got 'int4'"):
        load_pretrained(predict_dtype="int4")


def test_an_engine_not_made_from_the_shipped_weights_is_refused(monkeypatch):
    monkeypatch.setattr(_cards, "weights_sha256", lambda name: "0" * 64)
    with pytest.raises(RuntimeError, match="was not made from fer2013_crop_cosine_k3_relu.weights.h5"):
        load_pretrained()
    load_pretrained(predict_dtype="float32")  # float32 needs no engine


def test_engine_reads_its_output_by_name_and_checks_its_shape(monkeypatch):
    engine = load_pretrained()[-1].engine_
    assert isinstance(engine, Int8Engine) and engine.classes == list(range(7))
    faces = np.zeros((3, 2304), np.float32)
    assert engine.predict_on_batch(faces).shape == (3, 7)
    monkeypatch.setattr(engine, "classes", list(range(5)))
    with pytest.raises(RuntimeError, match=r"shape \(3, 7\) for 3 faces and 5 classes"):
        engine.predict_on_batch(faces)


def test_changing_one_weight_of_model_makes_int8_refuse_the_stale_engine(int8_fit):
    clf, X, _ = int8_fit
    clf = pickle.loads(pickle.dumps(clf))
    clf.predict(X)
    output = clf.model_.layers[-1]
    kernel, bias = output.get_weights()
    output.set_weights([kernel, bias + np.eye(len(bias), dtype=bias.dtype)[-1] * 1e-3])  # the last bias only
    with pytest.raises(ValueError, match="weights of model_ changed"):
        clf.predict(X)
    clf.set_params(predict_dtype="float32").predict(X)  # the float network follows the new weights


def test_the_shipped_engine_knows_its_weights():
    pipe = load_pretrained()
    classifier = pipe[-1]
    faces = np.full((2, 2304), 128.0)
    pipe.predict(faces)
    classifier.model_.load_weights(_cards.shipped_file(_cards.read_card("crop_cosine_k3_relu_40ep")["weights"]))
    with pytest.raises(ValueError, match="weights of model_ changed"):
        pipe.predict(faces)


@settings(max_examples=20, deadline=None)
@given(weight=st.integers(0, 43), position=st.integers(0, 10**6), bits=st.integers(1, 2**32 - 1))
def test_the_weights_fingerprint_catches_any_single_changed_value(shipped_network, weight, position, bits):
    # Any single 32-bit word changed, by any bit pattern, changes the fingerprint, on both paths.
    model, fingerprint, before = shipped_network
    variable = model.weights[weight]
    values = np.array(variable.numpy())
    flat = values.reshape(-1).view(np.uint32)
    index = position % flat.size
    flat[index] ^= np.uint32(bits)
    variable.assign(values)
    try:
        assert fingerprint() != before and fingerprint._from_numpy() == fingerprint()
    finally:
        flat[index] ^= np.uint32(bits)
        variable.assign(values)
    assert fingerprint() == before


@pytest.fixture(scope="module")
def shipped_network():
    model = load_pretrained()[-1].model_
    fingerprint = WeightsFingerprint(model)
    assert len(model.weights) == 44 and fingerprint._from_numpy() == fingerprint()
    return model, fingerprint, fingerprint()


def test_initialize_makes_no_engine_from_untrained_weights(faces):
    X, y = faces
    clf = FERClassifier(**TINY, predict_dtype="int8").initialize(X / 255, y)
    assert not hasattr(clf, "engine_")
    with pytest.raises(ValueError, match="a fit makes"):
        clf.predict(X / 255)


@pytest.mark.parametrize("n_faces", [1, 65, 137, 300])
def test_calibration_takes_any_number_of_faces(n_faces):
    # onnxruntime's percentile calibrator stacks the calibration batches: they must be of one size.
    rng = np.random.default_rng(0)
    X, y = rng.random((n_faces + 1, 2304), dtype=np.float32), np.arange(n_faces + 1) % 2
    clf = FERClassifier(**TINY, random_state=0).fit(X, y)
    X = X[:n_faces]
    engine = Int8Engine.from_classifier(clf, X)
    assert engine.predict_on_batch(X).shape == (n_faces, 2)


def test_a_failing_engine_keeps_the_trained_weights_and_says_what_failed(monkeypatch, faces):
    X, y = faces

    def fail(*args, **kwargs):
        raise ValueError("setting an array element with a sequence")

    monkeypatch.setattr(Int8Engine, "from_classifier", fail)
    clf = FERClassifier(**TINY, random_state=0, predict_dtype="int8")
    with pytest.raises(RuntimeError, match="weights are kept in model_.*setting an array element"):
        clf.fit(X / 255, y)
    assert len(clf.history_["loss"]) == TINY["epochs"]
    trained = FERClassifier(**TINY, random_state=0).fit(X / 255, y)
    for got, expected in zip(clf.model_.get_weights(), trained.model_.get_weights()):
        np.testing.assert_array_equal(got, expected)
    clf.set_params(predict_dtype="float32")
    np.testing.assert_array_equal(clf.predict_proba(X / 255), trained.predict_proba(X / 255))
