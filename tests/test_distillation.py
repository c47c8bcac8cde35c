"""Knowledge distillation: fit(X, y, teacher_proba=P) mixes a teacher's probabilities into each target."""

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.model_selection import cross_validate

from skfer import FERClassifier, make_fer_pipeline
from skfer.models import LabelAccuracy, SmoothedSparseCrossentropy

from .conftest import TINY

SEEDED = {**TINY, "epochs": 2, "random_state": 0}


def one_hot(y, n_classes=3):
    return np.eye(n_classes, dtype=np.float32)[y]


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 9), st.integers(2, 8), st.floats(0, 1), st.floats(0, 0.5), st.integers(0, 2**16))
def test_loss_is_the_weighted_mix_of_label_and_teacher_crossentropies(n, n_classes, weight, smoothing, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, n_classes, n)
    teacher = rng.dirichlet(np.ones(n_classes), n).astype(np.float32)
    y_pred = rng.dirichlet(np.ones(n_classes), n).astype(np.float32)
    smoothed = one_hot(labels, n_classes) * (1 - smoothing) + smoothing / n_classes
    cross = lambda target: float(np.mean(-(target * np.log(np.clip(y_pred, 1e-7, 1))).sum(axis=1)))
    expected = (1 - weight) * cross(smoothed) + weight * cross(teacher)
    targets = np.column_stack([labels, teacher]).astype(np.float32)
    loss = SmoothedSparseCrossentropy(smoothing, teacher_weight=weight)
    assert float(loss(targets, y_pred)) == pytest.approx(expected, rel=1e-4, abs=1e-5)
    # labels alone (validation data) are scored on the labels
    assert float(loss(labels, y_pred)) == pytest.approx(cross(smoothed), rel=1e-4, abs=1e-5)
    metric = LabelAccuracy()
    metric.update_state(targets, y_pred)
    assert float(metric.result()) == pytest.approx(np.mean(y_pred.argmax(axis=1) == labels))


def test_the_loss_and_metric_survive_saving(tmp_path, faces):
    X, y = faces
    clf = FERClassifier(**SEEDED, distillation=0.3).fit(X / 255, y, teacher_proba=one_hot(y))
    clf.model_.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert loaded.loss.teacher_weight == 0.3
    np.testing.assert_allclose(loaded.predict(X[:4] / 255, verbose=0), clf.model_.predict(X[:4] / 255, verbose=0))
    targets = np.column_stack([y, one_hot((y + 1) % 3)]).astype(np.float32)
    scores = loaded.evaluate(X / 255, targets, return_dict=True, verbose=0)
    assert scores["accuracy"] == pytest.approx(clf.score(X / 255, y))


@pytest.mark.parametrize("setting", [{"teacher_weight": 1.5}, {"teacher_weight": -0.1}, {"label_smoothing": 1.0}])
def test_the_loss_refuses_weights_outside_their_range(setting):
    with pytest.raises(ValueError, match=f"{next(iter(setting))} must be in"):
        SmoothedSparseCrossentropy(**setting)


def test_callbacks_watch_val_accuracy_in_keras_auto_mode(faces):
    X, y = faces
    clf = FERClassifier(**{**SEEDED, "epochs": 4}, callbacks=[keras.callbacks.EarlyStopping],
                        callbacks__monitor="val_accuracy", callbacks__patience=1)
    clf.fit(X / 255, y, validation_data=(X / 255, y), teacher_proba=one_hot(y))
    assert 1 <= len(clf.history_["val_accuracy"]) <= 4


def test_a_teacher_that_is_the_labels_trains_as_the_labels(faces):
    X, y = faces
    params = {**SEEDED, "label_smoothing": 0.0}
    plain = FERClassifier(**params).fit(X / 255, y)
    distilled = FERClassifier(**params, distillation=1.0).fit(X / 255, y, teacher_proba=one_hot(y))
    np.testing.assert_allclose(distilled.predict_proba(X / 255), plain.predict_proba(X / 255), atol=1e-5)
    assert distilled.history_["loss"] == pytest.approx(plain.history_["loss"], rel=1e-5)


def test_distillation_0_ignores_the_teacher(faces):
    X, y = faces
    teacher = np.random.default_rng(1).dirichlet(np.ones(3), len(y))
    plain = FERClassifier(**SEEDED).fit(X / 255, y)
    ignored = FERClassifier(**SEEDED, distillation=0.0).fit(X / 255, y, teacher_proba=teacher)
    np.testing.assert_allclose(ignored.predict_proba(X / 255), plain.predict_proba(X / 255), atol=1e-5)


def test_the_student_learns_what_the_teacher_says(faces):
    X, y = faces
    says = (y + 1) % 3  # a teacher that names another class for every face
    student = FERClassifier(**{**TINY, "epochs": 30, "random_state": 0, "learning_rate": 0.01},
                            distillation=1.0).fit(X / 255, y, teacher_proba=one_hot(says))
    predicted = student.predict(X / 255)
    assert np.mean(predicted == says) > 0.9
    # accuracy in the history is measured against the labels, not the teacher's columns
    assert student.history_["accuracy"][-1] < 0.2


LEARNS = {**TINY, "epochs": 30, "random_state": 0, "learning_rate": 0.01}


def test_held_out_and_zero_weight_faces_keep_each_face_with_its_teacher_row(faces):
    X, y = faces
    says = (y + 1) % 3
    weight = np.where(np.arange(len(y)) % 7, 1.0, 0.0)
    clf = FERClassifier(**LEARNS, distillation=1.0, early_stopping=True, early_stopping__patience=30,
                        early_stopping__restore_best_weights=False,
                        validation_fraction=0.2)
    clf.fit(X / 255, y, teacher_proba=one_hot(says), sample_weight=weight)
    assert np.mean(clf.predict(X / 255) == says) > 0.75  # rows shuffled against the faces: about 1 in 3
    assert clf.history_["val_accuracy"][-1] < 0.5  # held-out faces are scored on their labels, not on "says"


def test_a_warm_start_on_names_takes_a_teacher_whose_columns_name_the_classes(faces):
    pd = pytest.importorskip("pandas")
    X, y = faces
    names = np.array(["Happy", "Sad", "Surprise"])[y]  # FER2013's 3, 4, 5: sorted as names, Neutral would move
    teacher = FERClassifier(**LEARNS).fit(X / 255, y + 3)
    says = pd.DataFrame(one_hot((y + 1) % 3)[:, ::-1], columns=[5, 4, 3])  # integer columns, in another order
    student = warm(teacher).fit(X / 255, names, teacher_proba=says)
    assert student.classes_.tolist() == ["Happy", "Sad", "Surprise"]
    assert np.mean(student.predict(X / 255) == np.array(["Sad", "Surprise", "Happy"])[y]) > 0.9


def warm(fitted):
    return fitted.set_params(warm_start=True, distillation=1.0)


def test_a_refused_teacher_leaves_a_warm_started_classifier_as_it_was(faces):
    X, y = faces
    clf = FERClassifier(**SEEDED).fit(X / 255, y)
    before = clf.predict_proba(X / 255)
    with pytest.raises(ValueError, match=r"shape \(40, 2\)"):
        clf.set_params(warm_start=True).fit(X[:40] / 255, y[:40], teacher_proba=one_hot(y[:40]))
    assert clf.classes_.tolist() == [0, 1, 2]
    np.testing.assert_array_equal(clf.predict_proba(X / 255), before)


def test_pipeline_and_cross_validation_route_and_slice_the_teacher(faces):
    X, y = faces
    teacher = one_hot(y)
    result = cross_validate(make_fer_pipeline(FERClassifier(**SEEDED)), X, y, cv=3,
                            params={"ferclassifier__teacher_proba": teacher})
    assert len(result["test_score"]) == 3
    bad = make_fer_pipeline(FERClassifier(**SEEDED))
    with pytest.raises(ValueError, match=r"teacher_proba must have shape \(60, 3\)"):
        bad.fit(X, y, ferclassifier__teacher_proba=teacher[:, :2])


def test_a_checkpoint_is_resumed_only_with_the_same_teacher(tmp_path, faces):
    X, y = faces
    teacher = np.random.default_rng(0).dirichlet(np.ones(3), len(y))
    params = {**SEEDED, "checkpoint_dir": str(tmp_path)}
    FERClassifier(**params).fit(X / 255, y, teacher_proba=teacher)
    with pytest.raises(ValueError, match="other training data"):
        FERClassifier(**params, resume=True).fit(X / 255, y, teacher_proba=teacher[::-1].copy())


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda p: p[:, :2], r"shape \(60, 3\): a row per face and a column per class of y \(0, 1, 2"),
        (lambda p: p[:59], r"shape \(60, 3\).*got \(59, 3\)"),
        (lambda p: np.where(np.arange(60)[:, None] == 7, np.nan, p), "finite probabilities >= 0; row 7"),
        (lambda p: np.where(np.arange(60)[:, None] == 4, -p, p), "row 4 does not"),
        (lambda p: p * np.where(np.arange(60)[:, None] == 11, 2, 1), "summing to 1; row 11 sums to 2"),
        (lambda p: np.full((60, 3), "x"), "teacher_proba must be an array of probabilities"),
    ],
)
def test_bad_teacher_proba_is_refused_by_name(faces, change, message):
    X, y = faces
    with pytest.raises(ValueError, match=message):
        FERClassifier(**SEEDED).fit(X / 255, y, teacher_proba=change(one_hot(y)))


def test_a_loss_of_ones_own_cannot_take_a_teacher(faces):
    X, y = faces
    with pytest.raises(ValueError, match="teacher_proba is distilled by the default loss"):
        FERClassifier(**SEEDED, loss=keras.losses.SparseCategoricalCrossentropy).fit(X / 255, y,
                                                                                    teacher_proba=one_hot(y))


@pytest.mark.parametrize("distillation", [-0.1, 1.5, "half"])
def test_distillation_outside_0_1_is_refused(faces, distillation):
    X, y = faces
    with pytest.raises(ValueError, match="distillation"):
        FERClassifier(**SEEDED, distillation=distillation).fit(X / 255, y)


@settings(max_examples=6, deadline=None)
@given(st.integers(6, 20), st.sampled_from([["Happy", "Sad"], [3, 5, 6], ["a", "b", "c", "d"]]),
       st.sampled_from([np.float16, np.float32, np.float64]))
def test_any_size_label_set_and_dtype_distills(n, labels, dtype):
    rng = np.random.default_rng(n)
    y = np.asarray(labels)[np.arange(n) % len(labels)]
    X = rng.random((n, 2304), dtype=np.float32)
    teacher = rng.dirichlet(np.ones(len(labels)), n).astype(dtype)
    clf = FERClassifier(**TINY, random_state=0, label_smoothing=0.0, distillation=1.0)
    clf.fit(X, y, teacher_proba=teacher)
    assert sorted(clf.classes_.tolist()) == sorted(labels)
    assert clf.predict_proba(X).shape == (n, len(labels))
    # the teacher acts: another teacher's rows train another network
    other = FERClassifier(**TINY, random_state=0, label_smoothing=0.0, distillation=1.0)
    other.fit(X, y, teacher_proba=teacher[::-1].copy())
    assert not np.allclose(other.predict_proba(X), clf.predict_proba(X), atol=1e-6)
