import pickle
import subprocess
import sys
import importlib.util

import joblib
import keras
import numpy as np
import pytest
from sklearn.base import clone, is_classifier
from sklearn.metrics import ConfusionMatrixDisplay
from sklearn.model_selection import GridSearchCV, StratifiedKFold, check_cv, cross_validate
from sklearn.pipeline import make_pipeline

from skfer import EMOTIONS, FERClassifier, PixelNormalizer, PixelStringTransformer, make_fer_pipeline

from .conftest import TINY


def test_is_a_classifier_with_stratified_cv(faces):
    X, y = faces
    pipe = make_pipeline(PixelNormalizer(), FERClassifier(**TINY))
    assert is_classifier(FERClassifier()) and is_classifier(pipe)
    assert isinstance(check_cv(3, y, classifier=is_classifier(pipe)), StratifiedKFold)
    # y is sorted by class: plain KFold would leave a class out of every training fold.
    result = cross_validate(pipe, X, y, cv=3, return_estimator=True)
    assert all(len(est[-1].classes_) == 3 for est in result["estimator"])


def test_grid_search_sweeps_optimizer_and_dropout(faces):
    X, y = faces
    pipe = make_pipeline(PixelNormalizer(), FERClassifier(**TINY, random_state=0))
    grid = {"ferclassifier__optimizer": ["adam", "sgd"], "ferclassifier__dropout": [0.3, 0.5]}
    search = GridSearchCV(pipe, grid, cv=3).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    best = search.best_estimator_[-1]
    assert best.model_.get_layer("drop1").rate == best.dropout
    assert type(best.model_.optimizer).__name__.lower() == best.optimizer


def test_confusion_matrix_display_from_pipeline(faces):
    pytest.importorskip("matplotlib")
    X, y = faces
    names = np.array(EMOTIONS)[y + 3]
    pipe = make_pipeline(PixelNormalizer(), FERClassifier(**TINY, random_state=0)).fit(X, names)
    disp = ConfusionMatrixDisplay.from_estimator(pipe, X, names)
    assert list(disp.display_labels) == ["Happy", "Sad", "Surprise"]
    assert disp.confusion_matrix.sum() == len(y)


def test_random_state_gives_identical_predictions(faces):
    X, y = faces
    params = {**TINY, "epochs": 2, "augment": True, "random_state": 0}
    first = FERClassifier(**params).fit(X / 255, y).predict_proba(X / 255)
    second = FERClassifier(**params).fit(X / 255, y).predict_proba(X / 255)
    np.testing.assert_array_equal(first, second)
    # An unseeded fit after a seeded one still works and differs.
    unseeded = FERClassifier(**{**params, "random_state": None}).fit(X / 255, y)
    assert not np.array_equal(unseeded.predict_proba(X / 255), first)


def test_face_shapes_and_emotion_names(faces):
    X, y = faces
    names = np.array(EMOTIONS)[y]
    clf = FERClassifier(**TINY, random_state=0).fit(X.reshape(-1, 48, 48) / 255, names)
    assert clf.n_features_in_ == 2304
    assert list(clf.classes_) == ["Angry", "Disgust", "Fear"]
    flat = clf.predict_proba(X / 255)
    np.testing.assert_allclose(clf.predict_proba(X.reshape(-1, 48, 48, 1) / 255), flat, rtol=1e-6)
    assert set(clf.predict(X / 255)) <= set(clf.classes_)


@pytest.mark.parametrize(
    "X, message",
    [
        (np.zeros((6, 100)), r"2304 features per row; got X of shape \(6, 100\)"),
        (np.zeros((6, 32, 32)), r"got X of shape \(6, 32, 32\)"),
        (np.array([" ".join(["1"] * 2304)] * 6), "PixelStringTransformer"),
    ],
)
def test_wrong_input_gets_a_clear_error(X, message):
    with pytest.raises(ValueError, match=message):
        FERClassifier(**TINY).fit(X, [0, 1] * 3)


def test_one_class_or_continuous_target_is_refused(faces):
    X, _ = faces
    with pytest.raises(ValueError, match="at least 2 classes"):
        FERClassifier(**TINY).fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="Unknown label type"):
        FERClassifier(**TINY).fit(X, np.linspace(0, 1, len(X)))


def test_defaults_are_the_seed_recipe_and_summary(faces):
    X, y = faces
    clf = FERClassifier().initialize(X[:7], np.arange(7))
    assert clf.model_.count_params() == 896_487
    assert "896,487" in clf.summary()
    assert type(clf.model_.optimizer).__name__ == "Nadam"
    assert np.isclose(float(clf.model_.optimizer.learning_rate), 1e-3)
    assert (clf.batch_size, clf.epochs) == (32, 100)
    routed = FERClassifier(optimizer="sgd", optimizer__learning_rate=0.05).initialize(X[:7], np.arange(7))
    assert np.isclose(float(routed.model_.optimizer.learning_rate), 0.05)


def test_history_and_validation_callbacks(faces):
    X, y = faces
    params = {**TINY, "epochs": 6, "patience": 1, "lr_patience": 1, "random_state": 0}
    clf = FERClassifier(**params).fit(X / 255, y, validation_data=(X / 255, y))
    epochs_run = len(clf.history_["loss"])
    assert {"accuracy", "val_accuracy", "val_loss", "learning_rate"} <= set(clf.history_)
    assert all(len(v) == epochs_run for v in clf.history_.values())
    # Each fit gets fresh callbacks: a refit of a clone runs the same epochs.
    again = clone(clf).fit(X / 255, y, validation_data=(X / 255, y))
    assert len(again.history_["loss"]) == epochs_run
    plain = FERClassifier(**{**params, "epochs": 2}).fit(X / 255, y)
    assert "val_accuracy" not in plain.history_ and len(plain.history_["loss"]) == 2


def test_pipeline_transforms_validation_data(real_faces):
    X, y, X_val, y_val = real_faces
    pipe = make_fer_pipeline(FERClassifier(**{**TINY, "epochs": 2}, random_state=0))
    pipe.fit(X[:200], y[:200], validation_data=(X_val[:100], y_val[:100]))
    history = pipe[-1].history_
    expected = pipe.score(X_val[:100], y_val[:100])
    assert np.isclose(history["val_accuracy"][np.argmax(history["val_accuracy"])], expected, atol=0.02)


def test_persistence_round_trips(faces, tmp_path):
    X, y = faces
    rows = np.arange(0, len(X), 6)
    strings = [" ".join(str(int(v)) for v in row) for row in X[rows]]
    pipe = make_pipeline(PixelStringTransformer(), PixelNormalizer(), FERClassifier(**TINY, random_state=0))
    pipe.fit(strings, y[rows])
    expected = pipe.predict_proba(strings)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(pipe)).predict_proba(strings), expected)
    joblib.dump(pipe, tmp_path / "pipe.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "pipe.joblib").predict_proba(strings), expected)
    pipe[-1].model_.save(tmp_path / "model.keras")
    model = keras.saving.load_model(tmp_path / "model.keras")
    pixels = pipe[:-1].transform(strings)
    np.testing.assert_allclose(model.predict(pixels, verbose=0), expected, rtol=1e-5)


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="JAX is not installed")
def test_fits_on_the_jax_backend():
    code = (
        "import numpy as np; from skfer import FERClassifier; import keras;"
        "assert keras.backend.backend() == 'jax';"
        "X = np.random.default_rng(0).random((20, 2304), dtype=np.float32);"
        "clf = FERClassifier(filters=(4,), kernel_sizes=3, dropout=0.1, dense_units=8, epochs=1,"
        " random_state=0).fit(X, np.arange(20) % 2);"
        "assert clf.predict_proba(X).shape == (20, 2)"
    )
    env = {"KERAS_BACKEND": "jax", "PATH": ""}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=300)
