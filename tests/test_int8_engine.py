"""predict_dtype="int8": the ONNX Runtime engine a fit makes, and the one shipped with each pretrained model."""

import pickle
import sys

import numpy as np
import pytest
from sklearn.base import clone

from skfer import FERClassifier
from skfer.inference._engine import Int8Engine
from skfer.pretrained import MODELS, load_pretrained
from skfer.pretrained import _load

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
    monkeypatch.setattr(_load, "weights_sha256", lambda name: "0" * 64)
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
