"""Property-based tests: any number of faces, any 2 to 7 classes (integers or names), any dtype, on every way to train.

Labels in, labels out: ``classes_`` and predictions are the labels given to
the fit, in their own form; probabilities have one column per class and sum
to 1; sizes that are not multiples of any batch train. Few examples each, on
a tiny network, so that the suite stays fast.
"""

import keras
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skfer import EMOTIONS, FERClassifier, fit_dataset, load_pretrained

from .conftest import TINY

PROPERTIES = settings(max_examples=6, deadline=None, derandomize=True,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

DTYPES = st.sampled_from([np.float32, np.float64, np.uint8, np.int64])


@st.composite
def labelled_faces(draw, max_faces=120, emotions_only=False):
    """Faces of a drawn dtype and size, with 2-7 classes in a drawn form, every class present."""
    n_classes = draw(st.integers(2, 7))
    if emotions_only:
        chosen = draw(st.permutations(range(len(EMOTIONS))))[:n_classes]
        as_names = draw(st.booleans())
        classes = np.asarray(EMOTIONS)[chosen] if as_names else np.asarray(chosen)
    else:
        form = draw(st.sampled_from(["ints", "names"]))
        if form == "ints":
            classes = np.asarray(draw(st.lists(st.integers(-5, 50), min_size=n_classes, max_size=n_classes,
                                               unique=True)))
        else:
            classes = np.asarray(draw(st.lists(st.text("abcdefgh", min_size=1, max_size=6),
                                               min_size=n_classes, max_size=n_classes, unique=True)))
    n = draw(st.integers(n_classes, max_faces))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    y = classes[np.concatenate([np.arange(n_classes), rng.integers(0, n_classes, n - n_classes)])]
    dtype = draw(DTYPES)
    scale = 255 if np.issubdtype(dtype, np.integer) else 1
    X = (rng.random((n, 2304)) * scale).astype(dtype)
    return X, y


def _form(labels):
    """``"names"`` or ``"integers"``: what every label is."""
    values = np.asarray(labels).tolist()
    if all(isinstance(v, str) for v in values):
        return "names"
    assert all(isinstance(v, int) and not isinstance(v, bool) for v in values), values
    return "integers"


def _check_labels_out(clf, X, y):
    expected = np.unique(y)
    assert clf.classes_.tolist() == expected.tolist()
    assert _form(clf.classes_) == _form(expected)  # names stay names, integers stay integers
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), len(expected))
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-4)
    predicted = clf.predict(X)
    assert _form(predicted) == _form(expected) and set(predicted.tolist()) <= set(expected.tolist())


@PROPERTIES
@given(data=labelled_faces())
def test_fit_takes_any_size_labels_and_dtype(data):
    X, y = data
    clf = FERClassifier(**TINY, batch_size=16, random_state=0)
    assert clf.fit(X, y) is clf
    _check_labels_out(clf, X, y)


@PROPERTIES
@given(data=labelled_faces())
def test_partial_fit_takes_any_size_labels_and_dtype(data):
    X, y = data
    clf = FERClassifier(**TINY, batch_size=16, random_state=0)
    half = len(X) // 2 or 1
    clf.partial_fit(X[:half], y[:half], classes=np.unique(y))
    clf.partial_fit(X[half:], y[half:])
    _check_labels_out(clf, X, y)
    assert len(clf.history_["loss"]) == 2


@PROPERTIES
@given(data=labelled_faces(), more=st.integers(1, 40))
def test_a_warm_start_on_more_faces_keeps_the_labels(data, more):
    X, y = data
    clf = FERClassifier(**TINY, batch_size=16, random_state=0).fit(X, y)
    extra = np.concatenate([y, y[:more]])
    clf.set_params(warm_start=True).fit(np.concatenate([X, X[:more]]), extra)
    _check_labels_out(clf, X, y)


@PROPERTIES
@given(data=labelled_faces(max_faces=60))
def test_fit_dataset_takes_any_size_and_labels(data):
    X, y = data
    X = X.astype(np.float32) / (255 if X.max() > 1 else 1)

    class Batches(keras.utils.PyDataset):
        classes_ = np.unique(y)
        target = np.searchsorted(classes_, y)
        filenames = [f"{i}.png" for i in range(len(y))]
        batch_size = 16

        def __len__(self):
            return -(-len(y) // self.batch_size)

        def __getitem__(self, index):
            rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
            return X[rows], self.target[rows]

    clf = fit_dataset(FERClassifier(**TINY, batch_size=16, random_state=0), Batches())
    _check_labels_out(clf, X, y)


@settings(PROPERTIES, max_examples=3)
@given(data=labelled_faces(max_faces=80, emotions_only=True))
def test_fine_tuning_the_shipped_model_answers_in_the_labels_given(data):
    X, y = data
    faces = (X.astype(np.float64) * (255 if X.max() <= 1 else 1)).round()  # pixel values 0-255
    model = load_pretrained()
    model.set_params(ferclassifier__warm_start=True, ferclassifier__epochs=1, ferclassifier__batch_size=16,
                     ferclassifier__random_state=0)
    model.fit(faces, y)
    _check_labels_out(model, faces, y)
