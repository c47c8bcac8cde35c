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

from skfer import EMOTIONS, Augmentation, FERClassifier, PixelNormalizer, PixelStringTransformer, make_fer_pipeline

from .conftest import TINY


@pytest.mark.floor
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


@pytest.mark.floor
def test_random_state_gives_identical_predictions(faces):
    X, y = faces
    params = {**TINY, "epochs": 2, "augmentation": Augmentation, "random_state": 0}
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
        (np.zeros((6, 100)), r"\(n, 2304\), \(n, 48, 48\) or \(n, 48, 48, 1\), i.e. 48x48 grayscale faces; got X of shape \(6, 100\)"),
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


def test_defaults_are_the_best_recipe_and_the_seed_is_one_name_away(faces):
    from skfer.experiments import recipe

    X, y = faces
    clf = FERClassifier().initialize(X[:7], np.arange(7))
    assert clf.model_.count_params() == 699_367  # 3x3 kernels, ReLU, 44-pixel crops
    assert "699,367" in clf.summary()
    assert type(clf.model_.optimizer).__name__ == "AdamW"
    assert np.isclose(float(clf.model_.optimizer.learning_rate), 2e-3)
    assert (clf.batch_size, clf.epochs, clf.early_stopping, clf.lr_schedule) == (64, 40, False, "cosine")
    params, epochs = recipe("seed")
    seed = FERClassifier(**params, epochs=epochs).initialize(X[:7], np.arange(7))
    assert seed.model_.count_params() == 896_487
    assert type(seed.model_.optimizer).__name__ == "Nadam"
    assert (seed.batch_size, seed.epochs, seed.early_stopping, seed.lr_schedule) == (32, 100, True, "plateau")
    routed = FERClassifier(optimizer="sgd", optimizer__learning_rate=0.05).initialize(X[:7], np.arange(7))
    assert np.isclose(float(routed.model_.optimizer.learning_rate), 0.05)


def test_history_and_validation_callbacks(faces):
    X, y = faces
    params = {**TINY, "epochs": 6, "early_stopping": True, "early_stopping__patience": 1,
              "lr_schedule": "plateau", "lr_schedule__patience": 1, "random_state": 0}
    clf = FERClassifier(**params).fit(X / 255, y, validation_data=(X / 255, y))
    epochs_run = len(clf.history_["loss"])
    assert {"accuracy", "val_accuracy", "val_loss", "learning_rate"} <= set(clf.history_)
    assert all(len(v) == epochs_run for v in clf.history_.values())
    # Each fit gets fresh callbacks: a refit of a clone runs the same epochs.
    again = clone(clf).fit(X / 255, y, validation_data=(X / 255, y))
    assert len(again.history_["loss"]) == epochs_run
    plain = FERClassifier(**{**TINY, "epochs": 2, "random_state": 0}).fit(X / 255, y)
    assert "val_accuracy" not in plain.history_ and len(plain.history_["loss"]) == 2


def test_pipeline_transforms_validation_data(real_faces):
    X, y, X_val, y_val = real_faces
    pipe = make_fer_pipeline(FERClassifier(**{**TINY, "epochs": 2}, random_state=0))
    pipe.fit(X[:200], y[:200], validation_data=(X_val[:100], y_val[:100]))
    history = pipe[-1].history_
    expected = pipe.score(X_val[:100], y_val[:100])
    assert np.isclose(history["val_accuracy"][np.argmax(history["val_accuracy"])], expected, atol=0.02)


@pytest.mark.floor
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
        "clf = FERClassifier(architecture__filters=(4,), architecture__dense_units=8, dropout=0.1, epochs=1,"
        " random_state=0).fit(X, np.arange(20) % 2);"
        "assert clf.predict_proba(X).shape == (20, 2)"
    )
    env = {"KERAS_BACKEND": "jax", "PATH": ""}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=300)


def test_seeded_fit_never_seeds_a_process_wide_generator(faces, monkeypatch):
    # Not even for the duration of the fit: another thread (joblib, Dask) would see it.
    import random

    def refuse(*args, **kwargs):
        raise AssertionError("a fit touched a process-wide random generator")

    for module, names in ((np.random, ("seed", "set_state")), (random, ("seed", "setstate"))):
        for name in names:
            monkeypatch.setattr(module, name, refuse)
    X, y = faces
    FERClassifier(**TINY, random_state=0).fit(X / 255, y)
    FERClassifier(**TINY, random_state=0).partial_fit(X / 255, y)


def test_seeded_fit_leaves_global_generators_alone_and_partial_fit_does_not_reseed(faces):
    import random

    X, y = faces
    np.random.seed(5)
    random.seed(5)
    expected = (np.random.rand(), random.random())
    np.random.seed(5)
    random.seed(5)
    FERClassifier(**TINY, random_state=0).fit(X / 255, y)
    assert (np.random.rand(), random.random()) == expected

    clf = FERClassifier(**TINY, random_state=0)
    first = clf.partial_fit(X / 255, y).predict_proba(X / 255)
    second = clf.partial_fit(X / 255, y).predict_proba(X / 255)
    again = FERClassifier(**TINY, random_state=0).partial_fit(X / 255, y)
    np.testing.assert_array_equal(again.predict_proba(X / 255), first)  # first call seeded
    third = clf.partial_fit(X / 255, y).predict_proba(X / 255)
    assert not np.allclose(second, third)


def test_schedule_and_stopping_are_keras_callbacks_made_per_fit_with_routed_settings(faces):
    from skfer.estimator._callbacks import recipe_callbacks

    clf = FERClassifier(**TINY, lr_schedule="plateau", lr_schedule__factor=0.2, early_stopping=True,
                        early_stopping__patience=3)
    first, second = recipe_callbacks(clf, epochs=2), recipe_callbacks(clf, epochs=2)
    plateau, stopping = first[1:]
    assert (type(plateau).__name__, plateau.factor, plateau.patience, plateau.monitor) == (
        "ReduceLROnPlateau", 0.2, 7, "val_accuracy")
    assert (type(stopping).__name__, stopping.patience, stopping.restore_best_weights) == ("EarlyStopping", 3, True)
    assert all(a is not b for a, b in zip(first, second))
    with pytest.raises(ValueError, match="lr_schedule__factr is not a setting of ReduceLROnPlateau"):
        FERClassifier(**TINY, lr_schedule="plateau", lr_schedule__factr=0.2).fit(*faces)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"dropout": 1.5}, "'dropout' parameter of FERClassifier must be a float in the range"),
        ({"dropout": (0.2, 1.5)}, "'dropout' parameter of FERClassifier must hold rates in"),
        ({"lr_schedule": "linear"}, "'lr_schedule' parameter of FERClassifier must be a str among"),
        ({"augmentation": Augmentation, "augmentation__crop_size": 60},
         "'crop_size' parameter of Augmentation must be an int in the range"),
        ({"augmentation": Augmentation, "augmentation__rotaton": 5}, "augmentation__rotaton is not a setting"),
        ({"architecture__kernel_size": 3}, "architecture__kernel_size is not a setting of architecture='dcnn'"),
        ({"validation_fraction": 1.0}, "'validation_fraction' parameter of FERClassifier must be a float"),
        ({"model": "nonsense"}, "FERClassifier has no parameter 'model'"),
        ({"run_eagerly": True}, "FERClassifier has no parameter 'run_eagerly'"),
        ({"verbose": "loud"}, "'verbose' parameter of FERClassifier must be"),
        ({"tta": "five_crop"}, "'tta' parameter of FERClassifier must be a str among"),
    ],
)
def test_bad_parameters_are_named_before_keras_sees_them(faces, params, message):
    X, y = faces
    with pytest.raises(ValueError, match=message):
        FERClassifier(**{**TINY, **params}).fit(X / 255, y)


def test_recipe_levers_do_what_they_say(faces):
    X, y = faces
    X = X / 255
    clf = FERClassifier(
        **{**TINY, "epochs": 4, "augmentation": Augmentation}, label_smoothing=0.1, lr_schedule="cosine",
        lr_schedule__warmup=0.25, optimizer="sgd_nesterov", learning_rate=0.05, weight_decay=5e-4,
        class_weight="balanced", random_state=0,
    ).fit(X, y)
    assert clf.n_features_in_ == 2304
    assert clf.model_.get_layer("crop").compute_output_shape((None, 48, 48, 1)) == (None, 44, 44, 1)
    assert clf.model_.get_layer("conv1_1").input.shape[1:3] == (44, 44)
    np.testing.assert_allclose(clf.history_["learning_rate"], [0.05, 0.05, 0.0375, 0.0125], rtol=1e-6)
    optimizer = clf.model_.optimizer
    assert type(optimizer).__name__ == "SGD" and optimizer.nesterov and float(optimizer.momentum) == 0.9
    assert optimizer.weight_decay == 5e-4
    assert clf.model_.loss.label_smoothing == 0.1
    assert clf.predict_proba(X[:3]).shape == (3, 3)


def test_erasing_adds_the_layer_only_when_asked_and_prediction_ignores_it(faces):
    X, y = faces
    X = X / 255
    plain = FERClassifier(**TINY, random_state=0).fit(X, y)
    erasing = FERClassifier(**{**TINY, "augmentation": Augmentation(erasing=0.5, crop_size=None)}, random_state=0).fit(X, y)
    assert "erasing" not in [layer.name for layer in plain.model_.layers]
    assert erasing.model_.get_layer("erasing").rate == 0.5
    # at inference the layer passes faces through: same weights, same answers
    plain.model_.set_weights(erasing.model_.get_weights())
    np.testing.assert_allclose(erasing.predict_proba(X), plain.predict_proba(X), rtol=1e-5)
    with pytest.raises(ValueError, match="'erasing' parameter of Augmentation must be a float in the range"):
        FERClassifier(**{**TINY, "augmentation": Augmentation(erasing=1.5)}).fit(X, y)


def test_photometric_adds_its_layer_and_prediction_ignores_it(faces):
    X, y = faces
    plain = FERClassifier(**TINY, random_state=0).fit(X / 255, y)
    photometric = FERClassifier(**{**TINY, "augmentation": Augmentation(photometric=1.0, crop_size=None)},
                                random_state=0).fit(X / 255, y)
    assert "photometric" not in [layer.name for layer in plain.model_.layers]
    assert photometric.model_.get_layer("photometric").strength == 1.0
    plain.model_.set_weights(photometric.model_.get_weights())
    np.testing.assert_allclose(photometric.predict_proba(X / 255), plain.predict_proba(X / 255), rtol=1e-5)


def test_class_weight_balanced_weighs_the_rare_class_up(faces):
    X, y = faces
    keep = (y != 2) | (np.arange(len(y)) % 5 == 0)  # class 2 rare
    X, y = X[keep] / 255, y[keep]
    losses = {}
    for class_weight in (None, "balanced"):
        clf = FERClassifier(**TINY, class_weight=class_weight, random_state=0).fit(X, y)
        losses[class_weight] = clf.history_["loss"][0]
    assert losses["balanced"] != losses[None]


def test_tta_views_average_and_none_is_unchanged(faces):
    X, y = faces
    clf = FERClassifier(**{**TINY, "augmentation": Augmentation(horizontal_flip=False)},
                        random_state=0).fit(X / 255, y)
    plain = clf.predict_proba(X / 255)
    np.testing.assert_allclose(plain, clf.model_.predict(X / 255, verbose=0), atol=1e-5)
    flipped = (X / 255).reshape(-1, 48, 48)[:, :, ::-1].reshape(len(X), -1)
    expected = (plain + clf.model_.predict(flipped, verbose=0)) / 2
    np.testing.assert_allclose(clf.set_params(tta="flip").predict_proba(X / 255), expected, atol=1e-5)
    ten = clf.set_params(tta="ten_crop").predict_proba(X / 255)
    assert ten.shape == plain.shape and np.allclose(ten.sum(axis=1), 1, atol=1e-5)
    assert not np.allclose(ten, expected)


def test_verbose_1_reports_progress_within_epochs(faces, capsys):
    X, y = faces
    FERClassifier(**TINY, verbose=1).fit(X / 255, y)
    err = capsys.readouterr().err
    assert "epoch 1/1: 60 faces in" in err and "faces/s" in err


@pytest.mark.parametrize("architecture", ["dcnn", "vgg", "resnet"])
def test_architecture_is_a_parameter_and_predictions_follow_the_model(faces, architecture):
    X, y = faces
    small = {"dcnn": dict(architecture__filters=(4,), architecture__dense_units=8, dropout=0.1)}.get(
        architecture, dict(architecture__filters=(4, 8))
    )
    clf = FERClassifier(architecture=architecture, epochs=1, random_state=0, **small)
    clf.fit(X / 255, y)
    assert clf.model_.output_shape == (None, 3) and clf.n_features_in_ == 2304
    np.testing.assert_allclose(clf.predict_proba(X / 255), clf.model_.predict(X / 255, verbose=0), atol=1e-5)


def test_parameters_an_architecture_lacks_are_named(faces):
    X, y = faces
    with pytest.raises(ValueError, match="architecture__dense_units is not a setting of architecture='resnet'"):
        FERClassifier(architecture="resnet", architecture__kernel_sizes=3, architecture__dense_units=8,
                      epochs=1).fit(X / 255, y)


def test_partial_fit_takes_scikit_learns_classes_argument(faces):
    X, y = faces
    clf = FERClassifier(**TINY, random_state=0)
    clf.partial_fit(X[y < 2] / 255, y[y < 2], [0, 1, 2])  # positional, as scikit-learn passes it
    assert clf.classes_.tolist() == [0, 1, 2] and clf.predict_proba(X[:3] / 255).shape == (3, 3)
    clf.partial_fit(X / 255, y)  # later calls may omit it
    with pytest.raises(ValueError, match=r"classes=\[0, 1\] differ from the classes of the first call"):
        clf.partial_fit(X / 255, y, classes=[0, 1])
    with pytest.raises(ValueError, match=r"y holds \[2\], which classes=\[0, 1\] lacks"):
        FERClassifier(**TINY).partial_fit(X / 255, y, classes=[0, 1])


def test_routed_validation_data_with_emotion_names_is_encoded_like_y(faces):
    from skfer import EMOTIONS

    X, y = faces
    names = np.asarray(EMOTIONS, dtype=object)[y]
    clf = FERClassifier(**TINY, random_state=0).set_params(fit__validation_data=(X[:12] / 255, names[:12]))
    clf.fit(X / 255, names)
    assert len(clf.history_["val_accuracy"]) == 1
    direct = FERClassifier(**TINY, random_state=0).fit(X / 255, names, validation_data=(X[:12] / 255, names[:12]))
    assert direct.history_["val_accuracy"] == clf.history_["val_accuracy"]


def test_prediction_keywords_keep_tta_and_others_are_refused_by_name(faces):
    X, y = faces
    clf = FERClassifier(**TINY, random_state=0, tta="flip").fit(X / 255, y)
    expected = clf.predict_proba(X / 255)
    assert not np.allclose(expected, clf.set_params(tta=None).predict_proba(X / 255))  # the flip counts
    clf.set_params(tta="flip")
    np.testing.assert_allclose(clf.predict_proba(X / 255, batch_size=4), expected, atol=1e-6)
    np.testing.assert_array_equal(clf.predict(X / 255, batch_size=4), clf.classes_[expected.argmax(1)])
    with pytest.raises(TypeError, match=r"takes batch_size as its only keyword.*\['steps'\]"):
        clf.predict_proba(X / 255, steps=2)
    with pytest.raises(ValueError, match="batch_size must be a positive integer; got 0"):
        clf.predict(X / 255, batch_size=0)


def test_a_network_with_branches_refuses_bfloat16_prediction_by_name(faces):
    X, y = faces
    # 44-pixel crops: a 2-stage ResNet on whole 48x48 faces crashes inside TensorFlow 2.21 on an
    # AVX-512 CPU (a segmentation fault in the training step, not skfer's code).
    clf = FERClassifier(architecture="resnet", architecture__filters=(4, 8), epochs=1, random_state=0)
    clf.fit(X / 255, y)
    with pytest.raises(ValueError, match="predict_dtype='bfloat16' needs a network that is one chain"):
        clf.set_params(predict_dtype="bfloat16").predict(X / 255)
    auto = clf.set_params(predict_dtype="auto").predict_proba(X / 255)  # float32 for a ResNet
    np.testing.assert_allclose(auto, clf.set_params(predict_dtype="float32").predict_proba(X / 255))
