import warnings

import numpy as np
import pytest

from skfer import Augmentation, FERClassifier

from .conftest import TINY

TWO_BLOCKS = {**TINY, "architecture__filters": (4, 4), "epochs": 2, "random_state": 0}


def _weights(clf, name):
    return clf.model_.get_layer(name).get_weights()[0].copy()


def test_warm_start_keeps_weights_and_freezes_blocks(faces):
    X, y = faces
    clf = FERClassifier(**TWO_BLOCKS).fit(X / 255, y)
    conv, dense = _weights(clf, "conv1_1"), _weights(clf, "dense")
    clf.set_params(warm_start=True, freeze_blocks=1)
    clf.fit(X / 255, y)
    np.testing.assert_array_equal(_weights(clf, "conv1_1"), conv)  # frozen block
    assert not np.array_equal(_weights(clf, "dense"), dense)  # trained on
    assert clf.classes_.tolist() == [0, 1, 2]
    assert not clf.model_.get_layer("conv1_1").trainable and clf.model_.get_layer("conv2_1").trainable


def test_new_labels_get_a_new_head_on_the_same_body(faces):
    X, y = faces
    clf = FERClassifier(**TWO_BLOCKS).fit(X / 255, y)
    conv = _weights(clf, "conv2_2")
    names = np.array(["calm", "joy"])[y % 2]
    clf.set_params(warm_start=True, freeze_blocks=2)
    with pytest.warns(UserWarning, match=r"classes \['calm', 'joy'\].*\[0, 1, 2\].*output layer is replaced"):
        clf.fit(X / 255, names)
    assert clf.classes_.tolist() == ["calm", "joy"]
    assert clf.model_.output_shape == (None, 2)
    np.testing.assert_array_equal(_weights(clf, "conv2_2"), conv)
    assert clf.predict_proba(X[:3] / 255).shape == (3, 2)


def test_cold_fit_starts_from_new_weights(faces):
    X, y = faces
    clf = FERClassifier(**TWO_BLOCKS).fit(X / 255, y)
    conv = _weights(clf, "conv1_1")
    clf.set_params(random_state=1).fit(X / 255, y)
    assert not np.array_equal(_weights(clf, "conv1_1"), conv)


def test_warm_start_uses_the_current_callbacks(faces):
    import keras

    class EpochCounter(keras.callbacks.Callback):
        epochs = 0

        def on_epoch_end(self, epoch, logs=None):
            EpochCounter.epochs += 1

    X, y = faces
    clf = FERClassifier(**TWO_BLOCKS).fit(X / 255, y)
    clf.set_params(warm_start=True, epochs=3, callbacks=[EpochCounter])
    clf.fit(X / 255, y)
    assert EpochCounter.epochs == 3


def test_warm_start_with_the_other_label_kind_keeps_the_head(faces):
    # Emotion names on a network fitted on FER2013's integer labels are the
    # same classes: the head (and what it learned) must stay.
    from skfer import EMOTIONS

    # Labels in, labels out: classes_ and predictions become the names.
    X, y = faces
    y = np.array([3, 4, 6])[y]  # Happy, Sad, Neutral: by name the order is another
    clf = FERClassifier(**TWO_BLOCKS).fit(X / 255, y)
    head = clf.model_.get_layer("emotion").get_weights()
    names = np.asarray(EMOTIONS)[y]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf.set_params(warm_start=True, epochs=1, learning_rate=1e-12).fit(X / 255, names)
    assert clf.classes_.tolist() == ["Happy", "Neutral", "Sad"]
    assert set(clf.predict(X / 255)) <= {"Happy", "Neutral", "Sad"}
    for got, had in zip(clf.model_.get_layer("emotion").get_weights(), head):  # units 3, 6, 4
        np.testing.assert_allclose(got, had[..., [0, 2, 1]], atol=1e-6)
    assert clf.score(X / 255, names) == clf.score(X / 255, y)


def test_warm_start_on_some_of_its_emotions_keeps_their_units(faces):
    # Fine-tuning the shipped model for a few of its moods starts from what it knows of them.
    from skfer import EMOTIONS

    X, y = faces
    y = np.array([3, 4, 6])[y]
    clf = FERClassifier(**TWO_BLOCKS).fit(X / 255, y)
    head = clf.model_.get_layer("emotion").get_weights()
    keep = y != 6
    names = np.asarray(EMOTIONS)[y[keep]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "new, untrained" head
        clf.set_params(warm_start=True, epochs=1, learning_rate=1e-12).fit(X[keep] / 255, names)
    assert clf.classes_.tolist() == ["Happy", "Sad"]
    for got, had in zip(clf.model_.get_layer("emotion").get_weights(), head):  # units 3, 4
        np.testing.assert_allclose(got, had[..., [0, 1]], atol=1e-6)


def test_freezing_more_blocks_than_the_network_has_is_refused(faces):
    X, y = faces
    with pytest.raises(ValueError, match="freeze_blocks=9 exceeds the network's 2 conv blocks"):
        FERClassifier(**TWO_BLOCKS, freeze_blocks=9).fit(X / 255, y)


def test_warm_start_takes_changed_augmentation_and_keeps_every_weight(faces):
    X, y = faces
    clf = FERClassifier(**TWO_BLOCKS).fit(X / 255, y)
    before = {name: _weights(clf, name) for name in ("conv1_1", "conv2_2", "dense", "emotion")}
    clf.set_params(warm_start=True, epochs=1, learning_rate=1e-12,
                   augmentation=Augmentation(photometric=1.0, erasing=0.3, crop_size=None))
    clf.fit(X / 255, y)
    names = [layer.name for layer in clf.model_.layers]
    assert "photometric" in names and "erasing" in names
    for name, kernel in before.items():
        np.testing.assert_allclose(_weights(clf, name), kernel, atol=1e-6)


def test_warm_start_refuses_parameters_that_change_the_weights_and_keeps_the_fitted_network(faces):
    X, y = faces
    clf = FERClassifier(**TWO_BLOCKS).fit(X / 255, y)
    fitted = clf.model_
    clf.set_params(warm_start=True, architecture__kernel_sizes=5)
    with pytest.raises(ValueError, match=r"warm_start: .*Layer 'conv1_1' has weights of shapes .*warm_start=False"):
        clf.fit(X / 255, y)
    assert clf.model_ is fitted
