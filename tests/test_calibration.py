"""expected_calibration_error and ReliabilityDisplay: values worked out by hand, properties, scorers, artists."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import make_scorer
from sklearn.model_selection import cross_val_score

from skfer import ReliabilityDisplay, expected_calibration_error

pytestmark = pytest.mark.floor  # fast, and on scikit-learn's and matplotlib's declared lower bounds too

PROPERTIES = settings(max_examples=25, deadline=None, derandomize=True)


@pytest.fixture
def pyplot():
    """matplotlib.pyplot on the Agg backend; closes every figure afterwards."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def _binary(confidences, right):
    """Two-class labels and probabilities: each face predicted class 0 with the given confidence, right or not."""
    confidences = np.asarray(confidences, dtype=float)
    y_prob = np.column_stack([confidences, 1 - confidences])
    return np.where(right, 0, 1), y_prob


def test_bins_that_are_right_as_often_as_they_are_confident_score_zero():
    # 10 faces at 0.8 with 8 right, 5 faces at 0.6 with 3 right
    y_true, y_prob = _binary([0.8] * 10 + [0.6] * 5, [True] * 8 + [False] * 2 + [True] * 3 + [False] * 2)
    assert expected_calibration_error(y_true, y_prob, n_bins=10) == pytest.approx(0.0, abs=1e-12)


def test_certain_and_half_wrong_scores_one_half_and_always_wrong_scores_one():
    y_true, y_prob = _binary([1.0] * 6, [True, False] * 3)
    assert expected_calibration_error(y_true, y_prob) == pytest.approx(0.5)
    y_true, y_prob = _binary([1.0] * 4, [False] * 4)
    assert expected_calibration_error(y_true, y_prob, labels=[0, 1]) == pytest.approx(1.0)


def test_bins_weigh_by_their_share_of_faces_and_their_number_matters():
    # three right at 0.55, one wrong at 0.95
    y_true, y_prob = _binary([0.55, 0.55, 0.55, 0.95], [True, True, True, False])
    # ten bins: 3/4 * |1 - 0.55| + 1/4 * |0 - 0.95|
    assert expected_calibration_error(y_true, y_prob, n_bins=10) == pytest.approx(0.75 * 0.45 + 0.25 * 0.95)
    # one bin: |3/4 - mean confidence 0.65|
    assert expected_calibration_error(y_true, y_prob, n_bins=1) == pytest.approx(0.1)


def test_the_top_label_of_many_classes_is_what_counts():
    y_true = np.array([2, 2, 1, 0])
    y_prob = np.array([[0.1, 0.2, 0.7], [0.1, 0.2, 0.7], [0.7, 0.1, 0.2], [0.4, 0.3, 0.3]])
    # bin (0.6, 0.8]: 2 of 3 right at 0.7; bin (0.2, 0.4]: 1 right at 0.4 -> gaps 0.0333 and 0.6
    expected = 3 / 4 * abs(2 / 3 - 0.7) + 1 / 4 * abs(1 - 0.4)
    assert expected_calibration_error(y_true, y_prob, n_bins=5) == pytest.approx(expected)


def test_labels_order_the_columns():
    y_true = np.array(["Sad", "Happy", "Happy", "Sad", "Angry"])
    y_prob = np.array([[0.1, 0.2, 0.7], [0.2, 0.7, 0.1], [0.5, 0.4, 0.1], [0.3, 0.3, 0.4], [0.6, 0.2, 0.2]])
    sorted_columns = expected_calibration_error(y_true, y_prob)  # Angry, Happy, Sad
    reversed_columns = expected_calibration_error(y_true, y_prob[:, ::-1], labels=["Sad", "Happy", "Angry"])
    assert reversed_columns == pytest.approx(sorted_columns)
    assert expected_calibration_error(y_true, y_prob, labels=["Sad", "Happy", "Angry"]) != pytest.approx(
        sorted_columns
    )


def test_a_1d_y_prob_is_the_second_class_probability():
    y_true = np.array(["no", "yes", "yes", "no", "yes"])
    positive = np.array([0.2, 0.9, 0.4, 0.35, 0.7])
    two_columns = np.column_stack([1 - positive, positive])
    assert expected_calibration_error(y_true, positive) == pytest.approx(
        expected_calibration_error(y_true, two_columns)
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_bins": 0}, "'n_bins' parameter"),
        ({"n_bins": 2.5}, "'n_bins' parameter"),
        ({"y_prob": [[0.5, 0.5], [1.2, -0.2], [0.5, 0.5]]}, r"probabilities in \[0, 1\]; row 1"),
        ({"y_prob": [[0.5, 0.5], [0.5, 0.5], [2.0, 3.0]]}, r"probabilities in \[0, 1\]; row 2"),
        ({"y_prob": [[0.5, 0.5], [0.5, 0.5], [0.3, 0.3]]}, "row 2 sums to 0.6"),
        ({"y_prob": [[0.5, 0.5], [np.nan, 0.5], [0.5, 0.5]]}, "y_prob contains NaN"),
        ({"y_prob": [[0.5, 0.5], [0.5, 0.5]]}, "y_true has 3 labels but y_prob has 2 rows"),
        ({"y_prob": np.full((3, 2, 1), 0.5)}, "y_prob must have shape"),
        ({"y_true": [[0], [1], [1]]}, r"y_true must be a 1d array of labels; got shape \(3, 1\)"),
        ({"y_prob": np.full((3, 3), 1 / 3)}, r"y_prob has 3 columns but y_true holds 2 distinct labels \[0, 1\]"),
        ({"labels": [0, 0]}, "labels must be distinct"),
        ({"labels": [0, 1, 2]}, "labels must name the class of each of y_prob's 2 columns"),
        ({"labels": [0, 2]}, r"y_true holds \['1'\], which are not in labels"),
    ],
)
def test_bad_input_is_refused_by_name(kwargs, message):
    args = {"y_true": [0, 1, 1], "y_prob": [[0.5, 0.5], [0.2, 0.8], [0.6, 0.4]], **kwargs}
    with pytest.raises(ValueError, match=message):
        expected_calibration_error(**args)


def test_a_scorer_is_minus_the_ece_of_predict_proba():
    X, y = make_classification(n_samples=240, n_classes=3, n_informative=4, random_state=0)
    names = np.array(["Angry", "Happy", "Sad"])[y]
    scorer = make_scorer(expected_calibration_error, response_method="predict_proba", greater_is_better=False)
    model = LogisticRegression().fit(X, names)
    assert scorer(model, X, names) == pytest.approx(-expected_calibration_error(names, model.predict_proba(X)))
    scores = cross_val_score(LogisticRegression(), X, names, cv=3, scoring=scorer)
    assert scores.shape == (3,) and np.all((scores <= 0) & (scores >= -1)) and np.all(scores < -1e-3)


def test_a_binary_scorer_gets_one_column_and_scores_as_with_both():
    X, y = make_classification(n_samples=120, random_state=1)
    scorer = make_scorer(expected_calibration_error, response_method="predict_proba", greater_is_better=False)
    model = LogisticRegression().fit(X, y)
    assert scorer(model, X, y) == pytest.approx(-expected_calibration_error(y, model.predict_proba(X)))


@st.composite
def predictions(draw):
    """Labels of 2-7 classes (all present) and rows of probabilities for them."""
    n_classes = draw(st.integers(2, 7))
    n = draw(st.integers(n_classes, 60))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    y = rng.permutation(np.concatenate([np.arange(n_classes), rng.integers(0, n_classes, n - n_classes)]))
    logits = rng.normal(scale=draw(st.floats(0.1, 8.0)), size=(n, n_classes))
    y_prob = np.exp(logits - logits.max(axis=1, keepdims=True))
    return y, y_prob / y_prob.sum(axis=1, keepdims=True), rng


@PROPERTIES
@given(data=predictions(), n_bins=st.integers(1, 30))
def test_ece_lies_between_0_and_1_and_ignores_the_order_of_rows(data, n_bins):
    y, y_prob, rng = data
    ece = expected_calibration_error(y, y_prob, n_bins=n_bins)
    assert 0.0 <= ece <= 1.0
    order = rng.permutation(len(y))
    assert expected_calibration_error(y[order], y_prob[order], n_bins=n_bins) == pytest.approx(ece)


@PROPERTIES
@given(data=predictions())
def test_ece_of_one_bin_is_the_gap_between_accuracy_and_mean_confidence(data):
    y, y_prob, _ = data
    gap = abs(np.mean(y_prob.argmax(axis=1) == y) - y_prob.max(axis=1).mean())
    assert expected_calibration_error(y, y_prob, n_bins=1) == pytest.approx(gap)


@PROPERTIES
@given(data=predictions(), as_object=st.booleans())
def test_labels_as_strings_or_ints_give_the_same_ece(data, as_object):
    y, y_prob, _ = data
    names = np.array(["Angry", "Disgust", "Fear", "Happy", "Sad", "Surprise", "Neutral"])[: y_prob.shape[1]]
    y_names = names[y].astype(object) if as_object else names[y]
    assert expected_calibration_error(y_names, y_prob, labels=names) == pytest.approx(
        expected_calibration_error(y, y_prob)
    )


def test_display_from_predictions_keeps_the_bins_and_draws_them(pyplot):
    y_true, y_prob = _binary([0.55, 0.55, 0.55, 0.95], [True, True, True, False])
    display = ReliabilityDisplay.from_predictions(y_true, y_prob, n_bins=4, name="toy")
    assert_allclose(display.bin_edges, [0, 0.25, 0.5, 0.75, 1])
    assert_array_equal(display.counts, [0, 0, 3, 1])
    assert_allclose(display.accuracy, [np.nan, np.nan, 1.0, 0.0])
    assert_allclose(display.confidence, [np.nan, np.nan, 0.55, 0.95])
    assert display.ece == pytest.approx(expected_calibration_error(y_true, y_prob, n_bins=4))
    assert_allclose(display.line_.get_xdata(), [0.55, 0.95])
    assert_allclose(display.line_.get_ydata(), [1.0, 0.0])
    assert_array_equal(display.bars_.get_data().values, [0, 0, 3, 1])
    assert display.ax_.figure is display.figure_ and display.ax_counts_.figure is display.figure_
    assert display.axes_ == (display.ax_, display.ax_counts_)
    labels = display.ax_.get_legend_handles_labels()[1]
    assert labels == ["Perfectly calibrated", f"toy (ECE = {display.ece:.3f})"]


def test_displays_overlay_on_the_same_panels_with_one_diagonal(pyplot):
    y_true, y_prob = _binary([0.9, 0.8, 0.7, 0.6], [True, True, False, True])
    clean = ReliabilityDisplay.from_predictions(y_true, y_prob, name="clean")
    shifted = ReliabilityDisplay.from_predictions(y_true, y_prob[:, ::-1], labels=[1, 0], ax=clean.axes_)
    shifted.plot(ax=clean.axes_, name="blurred", color="tab:red")
    assert shifted.figure_ is clean.figure_
    labels = clean.ax_.get_legend_handles_labels()[1]
    assert labels.count("Perfectly calibrated") == 1
    assert labels[1:] == [f"clean (ECE = {clean.ece:.3f})", f"ECE = {shifted.ece:.3f}",
                          f"blurred (ECE = {shifted.ece:.3f})"]
    assert shifted.line_.get_color() == "tab:red" and len(clean.ax_counts_.patches) == 6
    with pytest.raises(ValueError, match="ax must be two Axes"):
        clean.plot(ax=clean.ax_)


def test_display_from_estimator_names_it_and_orders_columns_by_classes(pyplot):
    X, y = make_classification(n_samples=150, n_classes=3, n_informative=4, random_state=0)
    names = np.array(["Sad", "Angry", "Happy"])[y]
    model = LogisticRegression().fit(X, names)
    display = ReliabilityDisplay.from_estimator(model, X, names, n_bins=10)
    assert display.ece == pytest.approx(expected_calibration_error(names, model.predict_proba(X), n_bins=10))
    assert display.counts.sum() == 150 and display.line_.get_label().startswith("LogisticRegression (ECE = ")
    # labels name predict_proba's columns; naming them wrongly changes the figure
    wrong = ReliabilityDisplay.from_estimator(model, X, names, n_bins=10, labels=["Sad", "Happy", "Angry"])
    assert wrong.ece != pytest.approx(display.ece)


def test_display_from_estimator_refuses_what_it_cannot_read(pyplot):
    X, y = make_classification(n_samples=40, random_state=0)
    with pytest.raises(NotFittedError):
        ReliabilityDisplay.from_estimator(LogisticRegression(), X, y)
    with pytest.raises(TypeError, match="needs a classifier with predict_proba; LinearRegression"):
        ReliabilityDisplay.from_estimator(LinearRegression().fit(X, y), X, y)
    with pytest.raises(ValueError, match="'n_bins' parameter of ReliabilityDisplay.from_predictions"):
        ReliabilityDisplay.from_estimator(LogisticRegression().fit(X, y), X, y, n_bins=0)


def test_emotion_names_score_against_fer2013s_integer_columns():
    # The shipped model's classes_ are FER2013's 0-6; its users' labels are often the names.
    from skfer import EMOTIONS

    rng = np.random.default_rng(0)
    y = rng.integers(0, 7, 50)
    proba = rng.dirichlet(np.ones(7), 50)
    names = np.asarray(EMOTIONS)[y]
    assert expected_calibration_error(names, proba, labels=np.arange(7)) == expected_calibration_error(
        y, proba, labels=np.arange(7))
