"""Displays in skfer.reporting, and sklearn's confusion matrix on skfer pipelines.

Tested like scikit-learn tests its Displays: on the matplotlib artists.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import ConfusionMatrixDisplay, confusion_matrix, roc_auc_score, roc_curve
from sklearn.preprocessing import label_binarize

from skfer import EMOTIONS, FERClassifier, make_fer_pipeline
from skfer.reporting import MulticlassROCDisplay, TrainingHistoryDisplay

from .conftest import TINY

pytest.importorskip("matplotlib")

NAMES = [EMOTIONS[i] for i in (0, 3, 4)]  # Angry, Happy, Sad: sorted, like classes_


@pytest.fixture
def pyplot():
    """matplotlib.pyplot on the Agg backend; closes every figure afterwards."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


@pytest.fixture(scope="module")
def emotion_faces():
    """42 generated faces as FER2013 pixel strings, labelled with emotion names."""
    rng = np.random.default_rng(0)
    y = np.repeat(NAMES, 14)
    pixels = rng.integers(0, 120, size=(len(y), 2304))
    pixels[:, :768] += 60 * np.searchsorted(NAMES, y)[:, None]
    X = np.array([" ".join(map(str, row)) for row in pixels], dtype=object)
    return X, y


@pytest.fixture(scope="module")
def fitted_pipe(emotion_faces):
    """The default pipeline around a tiny FERClassifier, fitted with validation data."""
    X, y = emotion_faces
    clf = FERClassifier(**dict(TINY, epochs=3, lr_schedule="plateau", lr_schedule__patience=1, random_state=0))
    return make_fer_pipeline(clf).fit(X, y, validation_data=(X[::2], y[::2]))


HISTORY = {
    "accuracy": [0.20, 0.35, 0.45, 0.50, 0.55],
    "loss": [1.9, 1.6, 1.4, 1.3, 1.2],
    "val_accuracy": [0.25, 0.30, 0.30, 0.42, 0.40],
    "val_loss": [1.8, 1.7, 1.65, 1.5, 1.55],
    "learning_rate": [1e-3, 1e-3, 5e-4, 5e-4, 2.5e-4],
}


def _legend_texts(ax):
    return [text.get_text() for text in ax.get_legend().get_texts()]


# TrainingHistoryDisplay ---------------------------------------------------------------


def test_history_lines_hold_the_history(pyplot):
    display = TrainingHistoryDisplay.from_history(HISTORY)

    epochs = np.arange(1, 6)
    assert sorted(display.lines_) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    for key, line in display.lines_.items():
        assert_array_equal(line.get_xdata(), epochs)
        assert_allclose(line.get_ydata(), HISTORY[key])
    acc_ax, loss_ax = display.axes_[:2]
    assert display.lines_["accuracy"].axes is acc_ax
    assert display.lines_["val_loss"].axes is loss_ax
    assert acc_ax.get_xlabel() == loss_ax.get_xlabel() == "Epoch"
    assert (acc_ax.get_ylabel(), loss_ax.get_ylabel()) == ("Accuracy", "Loss")
    assert display.figure_ is acc_ax.figure


def test_history_draws_the_learning_rate_below(pyplot):
    display = TrainingHistoryDisplay.from_history(HISTORY)

    acc_ax, loss_ax, rate_ax = display.axes_
    line = display.learning_rate_line_
    assert line.axes is rate_ax and line not in acc_ax.get_lines() + loss_ax.get_lines()
    assert_array_equal(line.get_xdata(), np.arange(1, 6))
    assert_allclose(line.get_ydata(), HISTORY["learning_rate"])
    assert rate_ax.get_yscale() == "log"
    assert (rate_ax.get_xlabel(), rate_ax.get_ylabel()) == ("Epoch", "Learning rate")
    # a narrow panel under the two others
    assert rate_ax.get_position().height < acc_ax.get_position().height / 2
    assert rate_ax.get_position().y1 < acc_ax.get_position().y0


# Learning rates per epoch: (rates, epochs that began a step reduction).
LR_SCHEDULES = {
    # 2 warm-up epochs, the peak held for one epoch, then a cosine decay
    "warm-up and cosine": ([1e-3, 2e-3, 2e-3, 1.99e-3, 1.95e-3, 1.8e-3, 1.4e-3, 9e-4], []),
    "cosine": ([1e-3, 9.5e-4, 8e-4, 6e-4, 3.5e-4, 1.5e-4, 3e-5, 0.0], []),
    "one-cycle": ([4e-4, 1e-3, 2e-3, 3e-3, 2e-3, 1e-3, 4e-4, 1e-5], []),
    "plateaus": ([1e-3, 1e-3, 1e-3, 5e-4, 5e-4, 5e-4, 2.5e-4, 2.5e-4], [4, 7]),
    "cut in the last epoch": ([1e-3, 1e-3, 1e-3, 1e-3, 1e-3, 1e-3, 1e-3, 1e-4], [8]),
    "step after warm-up": ([5e-4, 1e-3, 1e-3, 1e-3, 1e-4, 1e-4, 1e-5, 1e-5], [5, 7]),
    "cuts in successive epochs": ([1e-3, 1e-3, 5e-4, 2.5e-4, 2.5e-4, 2.5e-4, 1e-4, 1e-4], [7]),
}


@pytest.mark.parametrize("rates, expected", LR_SCHEDULES.values(), ids=LR_SCHEDULES)
def test_history_marks_only_step_reductions(pyplot, rates, expected):
    history = {"accuracy": np.linspace(0.2, 0.6, 8), "loss": np.linspace(1.9, 1.1, 8)}
    display = TrainingHistoryDisplay.from_history({**history, "learning_rate": rates})

    assert_array_equal(display.lr_drop_epochs, expected)
    for ax in display.axes_[:2]:
        drops = [line for line in display.lr_drop_lines_ if line.axes is ax]
        assert [line.get_xdata()[0] for line in drops] == expected
        assert ("learning rate reduced" in _legend_texts(ax)) == bool(expected)
    assert len(display.lr_drop_lines_) == 2 * len(expected)
    assert_allclose(display.learning_rate_line_.get_ydata(), rates)


def test_history_marks_learning_rate_drops_and_best_epoch(pyplot):
    display = TrainingHistoryDisplay.from_history(HISTORY)

    assert_array_equal(display.lr_drop_epochs, [3, 5])
    assert len(display.lr_drop_lines_) == 4  # two drops in the accuracy and the loss panel
    for ax in display.axes_[:2]:
        drops = [line for line in display.lr_drop_lines_ if line.axes is ax]
        assert [line.get_xdata()[0] for line in drops] == [3, 5]
        assert all(line.get_linestyle() == ":" for line in drops)
        assert _legend_texts(ax) == [
            "train",
            "validation",
            "learning rate reduced",
            "best val. accuracy (epoch 4)",
        ]
    assert display.best_epoch == 4
    acc_star, loss_star = display.best_markers_
    assert (acc_star.get_xdata()[0], acc_star.get_ydata()[0]) == (4, 0.42)
    assert (loss_star.get_xdata()[0], loss_star.get_ydata()[0]) == (4, 1.5)


def test_history_without_validation_or_lr_schedule(pyplot):
    display = TrainingHistoryDisplay.from_history({"accuracy": [0.2, 0.3], "loss": [1.5, 1.2]})

    assert sorted(display.lines_) == ["accuracy", "loss"]
    assert display.lr_drop_lines_ == [] and display.best_markers_ == []
    assert display.learning_rate_line_ is None and len(display.axes_) == 2
    assert display.best_epoch is None
    assert _legend_texts(display.axes_[0]) == ["train"]


def test_history_uses_the_axes_passed_in(pyplot):
    fig, axes = pyplot.subplots(2, 1)
    display = TrainingHistoryDisplay.from_history(HISTORY, ax=axes, title="Run 1")

    assert display.axes_[0] is axes[0] and display.axes_[1] is axes[1]
    assert display.figure_ is fig
    assert fig.get_suptitle() == "Run 1"
    assert len(axes[0].get_lines()) == 2 + 2 + 1  # curves, LR drops, best star
    assert display.learning_rate_line_ is None  # no Axes given for it
    with pytest.raises(ValueError, match="ax must hold two Axes"):
        TrainingHistoryDisplay.from_history(HISTORY, ax=axes[0])


def test_history_draws_the_learning_rate_in_a_third_axes_passed_in(pyplot):
    _, axes = pyplot.subplots(1, 3)
    display = TrainingHistoryDisplay.from_history(HISTORY, ax=axes)

    assert all(got is given for got, given in zip(display.axes_, axes, strict=True))
    assert display.learning_rate_line_.axes is axes[2]
    assert axes[2].get_lines() == [display.learning_rate_line_]
    no_rate = {key: values for key, values in HISTORY.items() if key != "learning_rate"}
    with pytest.raises(ValueError, match="third Axes for the learning rate, but the history"):
        TrainingHistoryDisplay.from_history(no_rate, ax=axes)
    with pytest.raises(ValueError, match=r"or three \(accuracy, loss, learning rate\); got 4"):
        TrainingHistoryDisplay.from_history(HISTORY, ax=[*axes, axes[0]])


@pytest.mark.parametrize("final_only", [True, False])
def test_history_from_estimator_matches_from_history(pyplot, fitted_pipe, final_only):
    estimator = fitted_pipe[-1] if final_only else fitted_pipe
    history = fitted_pipe[-1].history_

    display = TrainingHistoryDisplay.from_estimator(estimator)
    expected = TrainingHistoryDisplay.from_history(history)

    assert "learning_rate" in display.history
    for key in ("accuracy", "loss", "val_accuracy", "val_loss", "learning_rate"):
        assert_allclose(display.history[key], history[key])
        assert_allclose(display.history[key], expected.history[key])
    assert_array_equal(display.lr_drop_epochs, expected.lr_drop_epochs)
    assert display.best_epoch == expected.best_epoch


def test_history_from_estimator_errors():
    with pytest.raises(NotFittedError):
        TrainingHistoryDisplay.from_estimator(FERClassifier())
    with pytest.raises(NotFittedError):
        TrainingHistoryDisplay.from_estimator(make_fer_pipeline())
    fitted = LogisticRegression().fit([[0.0], [1.0]], [0, 1])
    with pytest.raises(ValueError, match="LogisticRegression has no history_"):
        TrainingHistoryDisplay.from_estimator(fitted)


@pytest.mark.parametrize(
    "history, match",
    [
        ({"loss": [1.0]}, r"lacks the key\(s\) \['accuracy'\]"),
        ({"accuracy": [], "loss": []}, "holds no epoch"),
        ({"accuracy": [0.1, 0.2], "loss": [1.0]}, "one value per epoch"),
    ],
)
def test_history_bad_input(history, match):
    with pytest.raises(ValueError, match=match):
        TrainingHistoryDisplay.from_history(history)
    with pytest.raises(TypeError, match="dict of per-epoch lists"):
        TrainingHistoryDisplay.from_history([0.1, 0.2])


# MulticlassROCDisplay -----------------------------------------------------------------


def _scores(n_samples=90, seed=0):
    rng = np.random.default_rng(seed)
    y = np.array(NAMES)[np.arange(n_samples) % 3]
    scores = rng.random((n_samples, 3)) + 0.4 * label_binarize(y, classes=NAMES)
    return y, scores / scores.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("k", range(3))
def test_roc_each_class_uses_its_own_column(pyplot, k):
    # Only column k says anything, and only about class k: its curve is perfect and
    # every other class's curve is chance. Reading one column for all classes fails.
    y = np.array(NAMES)[np.arange(30) % 3]
    y_score = np.full((30, 3), 0.5)
    y_score[:, k] = y == NAMES[k]

    display = MulticlassROCDisplay.from_predictions(y, y_score)

    for j, name in enumerate(NAMES):
        assert display.roc_auc[name] == pytest.approx(1.0 if j == k else 0.5)


def test_roc_curves_match_sklearn(pyplot):
    y, y_score = _scores()
    display = MulticlassROCDisplay.from_predictions(y, y_score)

    for k, name in enumerate(NAMES):
        fpr, tpr, _ = roc_curve(y == name, y_score[:, k])
        assert_allclose(display.fpr[name], fpr)
        assert_allclose(display.tpr[name], tpr)
        assert display.roc_auc[name] == pytest.approx(roc_auc_score(y == name, y_score[:, k]))
    indicator = label_binarize(y, classes=NAMES)
    assert display.roc_auc["micro"] == pytest.approx(
        roc_auc_score(indicator, y_score, average="micro")
    )
    assert display.roc_auc["macro"] == pytest.approx(
        roc_auc_score(y, y_score, multi_class="ovr", average="macro"), abs=0.01
    )


def test_roc_lines_and_legend(pyplot):
    y, y_score = _scores()
    display = MulticlassROCDisplay.from_predictions(y, y_score)

    assert list(display.lines_) == [*NAMES, "micro", "macro"]
    for key, line in display.lines_.items():
        assert_allclose(line.get_xdata(), display.fpr[key])
        assert_allclose(line.get_ydata(), display.tpr[key])
    assert len(display.ax_.get_lines()) == len(NAMES) + 2 + 1
    assert_allclose(display.chance_level_.get_xdata(), [0, 1])
    auc = display.roc_auc
    assert _legend_texts(display.ax_) == [
        *(f"{name} (AUC = {auc[name]:.2f})" for name in NAMES),
        f"micro-average (AUC = {auc['micro']:.2f})",
        f"macro-average (AUC = {auc['macro']:.2f})",
        "chance (AUC = 0.50)",
    ]
    assert display.ax_.get_xlabel() == "False positive rate"
    assert display.ax_.get_ylabel() == "True positive rate"
    assert display.figure_ is display.ax_.figure


def test_roc_uses_the_ax_passed_in_and_can_omit_chance(pyplot):
    fig, ax = pyplot.subplots()
    y, y_score = _scores()
    display = MulticlassROCDisplay.from_predictions(y, y_score, ax=ax, plot_chance_level=False)

    assert display.ax_ is ax and display.figure_ is fig
    assert display.chance_level_ is None
    assert len(ax.get_lines()) == len(NAMES) + 2


def test_roc_integer_labels_with_display_labels(pyplot):
    y, y_score = _scores()
    codes = np.searchsorted(NAMES, y) * 2  # labels 0, 2, 4 in column order

    display = MulticlassROCDisplay.from_predictions(
        codes, y_score, labels=[0, 2, 4], display_labels=NAMES
    )
    expected = MulticlassROCDisplay.from_predictions(y, y_score)

    assert display.roc_auc == pytest.approx(expected.roc_auc)
    plain = MulticlassROCDisplay.from_predictions(codes, y_score)
    assert list(plain.roc_auc)[:3] == ["0", "2", "4"]


def test_roc_two_classes(pyplot):
    y, y_score = _scores()
    binary = y == "Happy"
    scores = np.column_stack([1 - y_score[:, 1], y_score[:, 1]])

    display = MulticlassROCDisplay.from_predictions(binary, scores)

    assert display.roc_auc["True"] == pytest.approx(roc_auc_score(binary, scores[:, 1]))
    assert display.roc_auc["False"] == pytest.approx(display.roc_auc["True"])


def test_roc_from_estimator_matches_from_predictions(pyplot, fitted_pipe, emotion_faces):
    X, y = emotion_faces
    display = MulticlassROCDisplay.from_estimator(fitted_pipe, X, y)
    expected = MulticlassROCDisplay.from_predictions(
        y, fitted_pipe.predict_proba(X), labels=fitted_pipe.classes_
    )

    assert list(display.roc_auc) == [*NAMES, "micro", "macro"]
    for key in display.roc_auc:
        assert_allclose(display.fpr[key], expected.fpr[key])
        assert_allclose(display.tpr[key], expected.tpr[key])
    assert display.roc_auc == pytest.approx(expected.roc_auc)
    assert _legend_texts(display.ax_) == _legend_texts(expected.ax_)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"labels": NAMES[:1]}, r"at least two classes; got \['Angry'\]"),
        ({"labels": NAMES[:2]}, "y_score has 3 columns but there are 2 classes"),
        ({"labels": ["Angry", "Happy", "Fear"]}, r"y_true holds \['Sad'\]"),
        ({"display_labels": ["a", "b"]}, "display_labels has 2 names for 3 classes"),
        ({"display_labels": ["a", "micro", "b"]}, "differ from"),
    ],
)
def test_roc_bad_labels(kwargs, match):
    y, y_score = _scores()
    with pytest.raises(ValueError, match=match):
        MulticlassROCDisplay.from_predictions(y, y_score, **kwargs)


def test_roc_bad_input():
    y, y_score = _scores()
    with pytest.raises(ValueError, match="no sample of class"):
        MulticlassROCDisplay.from_predictions(y[y != "Sad"], y_score[y != "Sad"], labels=NAMES)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        MulticlassROCDisplay.from_predictions(y[:-1], y_score)
    with pytest.raises(TypeError, match="LinearRegression has none"):
        MulticlassROCDisplay.from_estimator(LinearRegression(), y_score, y)
    with pytest.raises(NotFittedError):
        MulticlassROCDisplay.from_estimator(make_fer_pipeline(), ["0 0"], ["Happy"])


# sklearn's ConfusionMatrixDisplay on a skfer pipeline ----------------------------------


@pytest.mark.parametrize("normalize", [None, "true"])
def test_confusion_matrix_display_with_emotion_names(
    pyplot, fitted_pipe, emotion_faces, normalize
):
    X, y = emotion_faces
    display = ConfusionMatrixDisplay.from_estimator(fitted_pipe, X, y, normalize=normalize)

    expected = confusion_matrix(y, fitted_pipe.predict(X), labels=NAMES, normalize=normalize)
    assert_allclose(display.confusion_matrix, expected)
    assert [t.get_text() for t in display.ax_.get_xticklabels()] == NAMES
    assert [t.get_text() for t in display.ax_.get_yticklabels()] == NAMES
    if normalize == "true":
        assert_allclose(display.confusion_matrix.sum(axis=1), 1.0)
    else:
        assert display.confusion_matrix.sum() == len(y)
