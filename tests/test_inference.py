import pickle

import keras
import numpy as np
import pytest

from skfer import FERClassifier
from skfer.models import augmentation_layers, build_dcnn
from skfer.estimator._prediction import current_predictor
from skfer.models._inference import inference_model

from .conftest import TINY


@pytest.fixture
def fitted(faces):
    X, y = faces
    X = X / 255
    return FERClassifier(**TINY, random_state=0).fit(X, y), X, y


def test_inference_copy_folds_batch_norm_and_drops_training_layers():
    model = build_dcnn(augmentation=augmentation_layers(seed=0))
    rng = np.random.default_rng(0)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, variance = layer.get_weights()
            layer.set_weights([rng.uniform(0.5, 2, gamma.shape), rng.normal(size=beta.shape),
                               rng.normal(size=mean.shape), rng.uniform(0.5, 2, variance.shape)])
    X = rng.random((4, 2304), dtype=np.float32)
    inference_model(model)  # a second graph over the same model is folded too
    graph = inference_model(model)
    kinds = {type(layer).__name__ for layer in graph.layers}
    assert not kinds & {"BatchNormalization", "Dropout", "RandomAffine"}
    np.testing.assert_allclose(graph.predict_on_batch(X), model.predict_on_batch(X), atol=1e-5)


def test_predictions_follow_weights_set_on_any_layer(fitted):
    # The prediction graph used to be a cached copy keyed on the output bias:
    # weights set on a convolution afterwards were silently ignored.
    clf, X, _ = fitted
    before = clf.predict_proba(X)
    kernel, bias = clf.model_.get_layer("conv1_1").get_weights()
    clf.model_.get_layer("conv1_1").set_weights([kernel * 3, bias + 0.5])
    after = clf.predict_proba(X)
    assert not np.allclose(before, after)
    np.testing.assert_allclose(after, clf.model_.predict(X, verbose=0), atol=1e-5)


def test_predictions_match_the_keras_model(fitted):
    clf, X, _ = fitted
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba, clf.model_.predict(X, verbose=0), atol=1e-5)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])
    assert proba.shape == (len(X), 3)


def test_predictions_follow_new_weights(fitted):
    clf, X, y = fitted
    before = clf.predict_proba(X)
    clf.partial_fit(X, y)
    after = clf.predict_proba(X)
    assert not np.allclose(before, after)
    np.testing.assert_allclose(after, clf.model_.predict(X, verbose=0), atol=1e-5)

    other = FERClassifier(**TINY, random_state=1).fit(X, y)
    clf.model_.set_weights(other.model_.get_weights())
    np.testing.assert_allclose(clf.predict_proba(X), other.predict_proba(X), atol=1e-6)


def test_bfloat16_predictions_are_close(fitted):
    clf, X, _ = fitted
    reference = clf.predict_proba(X)
    clf.set_params(predict_dtype="bfloat16")
    proba = clf.predict_proba(X)
    assert proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-3)
    np.testing.assert_allclose(proba, reference, atol=0.05)
    assert not np.array_equal(proba, reference)  # really computed in bfloat16
    assert clf.predictor_.layers[2].compute_dtype == "bfloat16"  # set_params made it again


@pytest.mark.parametrize("native", [True, False])
def test_auto_predict_dtype_is_bfloat16_only_where_the_cpu_computes_it(fitted, monkeypatch, native):
    clf, X, _ = fitted
    monkeypatch.setattr("skfer._hardware.native_bfloat16", lambda: native)
    expected = clf.set_params(predict_dtype="bfloat16" if native else "float32").predict_proba(X)
    clf.set_params(predict_dtype="auto")
    assert clf.predictor_.layers[2].compute_dtype == ("bfloat16" if native else "float32")
    np.testing.assert_array_equal(clf.predict_proba(X), expected)
    assert current_predictor(clf) is clf.predictor_  # "auto" keeps the graph made for it


def test_prediction_reuses_the_graph_made_at_fit(fitted):
    clf, X, _ = fitted
    predictor = clf.predictor_
    clf.predict_proba(X[:1])
    assert current_predictor(clf) is predictor  # no new graph (and no retracing) per call
    clf.predict_dtype = "bfloat16"  # set directly, not through set_params
    assert current_predictor(clf) is not predictor
    clf.predict_dtype = "float32"
    assert current_predictor(clf) is predictor
    model, other = clf.model_, FERClassifier(**TINY, random_state=1).fit(X, fitted[2])
    clf.model_ = other.model_  # a network put in by hand is the one that predicts
    assert current_predictor(clf) is not predictor
    np.testing.assert_allclose(clf.predict_proba(X), other.predict_proba(X), atol=1e-6)
    clf.model_ = model


def test_unknown_predict_dtype_is_refused_before_training_and_at_prediction(fitted, faces):
    X, y = faces
    with pytest.raises(ValueError, match="'predict_dtype' parameter of FERClassifier must be"):
        FERClassifier(**TINY, predict_dtype="float16").fit(X, y)
    clf = fitted[0].set_params(predict_dtype="float16")
    with pytest.raises(ValueError, match="'predict_dtype' parameter of FERClassifier must be"):
        clf.predict(X)


def test_prediction_and_pickling_leave_the_estimator_unchanged(fitted):
    clf, X, _ = fitted
    before = dict(vars(clf))
    proba = clf.predict_proba(X)
    restored = pickle.loads(pickle.dumps(clf))
    # pickling once dropped the prediction graph from the classifier itself
    assert vars(clf).keys() == before.keys()
    assert all(vars(clf)[name] is value for name, value in before.items())
    np.testing.assert_allclose(restored.predict_proba(X), proba, atol=1e-6)


def test_bfloat16_training_keeps_float32_weights_and_output(faces):
    X, y = faces
    clf = FERClassifier(**TINY, train_dtype="bfloat16", random_state=0).fit(X / 255, y)
    assert clf.model_.get_layer("conv1_1").compute_dtype == "bfloat16"
    assert clf.model_.get_layer("conv1_1").kernel.dtype == "float32"
    assert clf.model_.get_layer("emotion").compute_dtype == "float32"
    np.testing.assert_allclose(clf.predict_proba(X / 255).sum(axis=1), 1, rtol=1e-5)
    with pytest.raises(ValueError, match="'train_dtype' parameter of FERClassifier must be"):
        clf.set_params(train_dtype="half").fit(X / 255, y)
