"""Every training feature through every entry point: fit, partial_fit, a warm start, fit_dataset, skfer train.

One routine trains behind all of them (skfer.estimator._training); this
matrix proves each feature reaches it from each door. A cell that cannot
apply is listed in NOT_APPLICABLE with the reason, like imbalanced-learn's
table of expected failures, and is skipped with it.
"""

import gzip
import json
import re

import keras
import numpy as np
import pytest
from sklearn.base import clone

from skfer import EMOTIONS, Augmentation, FERClassifier
from skfer import fit_dataset
from skfer.experiments import CosineSchedule, fp32_peak_gflops, train_fer2013

from .conftest import TINY

ENTRY_POINTS = ("fit", "partial_fit", "warm_start", "fit_dataset", "skfer_train")

NOT_APPLICABLE = {
    ("sample_weight", "fit_dataset"): "a dataset's batches carry their own weights",
    ("sample_weight", "skfer_train"): "skfer train weighs faces by class_weight only",
    ("validation_labels", "skfer_train"): "skfer train always validates on PublicTest's integer labels",
}


class Faces(keras.utils.PyDataset):
    """In-memory faces as fit_dataset takes them: batches of (faces, class positions), with file names."""

    def __init__(self, X, y, batch_size=16):
        super().__init__()
        self.X, self.target, self.batch_size = X, y, batch_size
        self.classes_ = np.unique(y)
        self.filenames = [f"face{i}.png" for i in range(len(y))]

    def __len__(self):
        return -(-len(self.X) // self.batch_size)

    def __getitem__(self, i):
        rows = slice(i * self.batch_size, (i + 1) * self.batch_size)
        return self.X[rows], np.searchsorted(self.classes_, self.target[rows])


@pytest.fixture
def data(faces):
    X, y = faces
    return X / 255.0, y


def _csv(tmp_path, X, y):
    """A FER2013 CSV of the faces: the first 45 as Training, the rest as PublicTest."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "fer2013.csv.gz"
    rows = ["emotion,pixels,Usage"]
    for i, (face, label) in enumerate(zip(X, y)):
        usage = "Training" if i % 4 else "PublicTest"
        rows.append(f"{label},{' '.join(str(int(v)) for v in face)},{usage}")
    with gzip.open(path, "wt") as file:
        file.write("\n".join(rows) + "\n")
    return path


def train_through(entry, tmp_path, X, y, params=None, sample_weight=None, validation=None):
    """Train a tiny classifier for two epochs through ``entry``; the fitted FERClassifier."""
    params = {**TINY, "epochs": 2, "random_state": 0, **(params or {})}
    fit_kwargs = {} if validation is None else {"validation_data": validation}
    if entry == "fit":
        return FERClassifier(**params).fit(X, y, sample_weight=sample_weight, **fit_kwargs)
    if entry == "partial_fit":
        clf = FERClassifier(**params)
        for _ in range(2):
            clf.partial_fit(X, y, sample_weight=sample_weight, **fit_kwargs)
        return clf
    if entry == "warm_start":
        clf = FERClassifier(**{**params, "epochs": 1}).fit(X, y, sample_weight=sample_weight, **fit_kwargs)
        return clf.set_params(warm_start=True, epochs=2).fit(X, y, sample_weight=sample_weight, **fit_kwargs)
    if entry == "fit_dataset":
        return fit_dataset(FERClassifier(**params), Faces(X, y), validation_data=validation)
    if entry == "skfer_train":
        pixels = np.round(X * 255)
        # skfer train sets these itself: its checkpoint is run/checkpoint, resumed when it matches.
        params = {k: v for k, v in params.items() if k not in ("epochs", "random_state", "checkpoint_dir", "resume")}
        pipe = train_fer2013(tmp_path / "run", data=_csv(tmp_path, pixels, y), epochs=2, random_state=0,
                             **{"verbose": 0, **params})
        return pipe[-1]
    raise ValueError(entry)


def _applies(feature, entry):
    reason = NOT_APPLICABLE.get((feature, entry))
    if reason:
        pytest.skip(reason)


def _first_kernel(model):
    return next(l for l in model.layers if isinstance(l, keras.layers.Conv2D)).get_weights()[0]


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_checkpoint_records_every_epoch_trained(entry, data, tmp_path):
    _applies("checkpoint", entry)
    folder = tmp_path / "run" / "checkpoint" if entry == "skfer_train" else tmp_path / "ckpt"
    clf = train_through(entry, tmp_path, *data, params={"checkpoint_dir": str(folder)})
    state = json.loads((folder / "state.json").read_text())
    assert state["epoch"] == len(clf.history_["loss"]) == 2
    assert (folder / state["model_file"]).is_file()
    assert state["finished"] is (entry != "partial_fit")


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_resuming_a_finished_checkpoint_trains_nothing_more(entry, data, tmp_path):
    _applies("resume", entry)
    if entry in ("partial_fit", "warm_start"):
        pytest.skip("partial_fit never resumes; a warm start continues its own model")
    folder = tmp_path / "run" / "checkpoint" if entry == "skfer_train" else tmp_path / "ckpt"
    params = {"checkpoint_dir": str(folder), "resume": True}
    first = train_through(entry, tmp_path, *data, params=params)
    again = train_through(entry, tmp_path, *data, params=params)
    assert again.history_["loss"] == first.history_["loss"]
    np.testing.assert_array_equal(_first_kernel(again.model_), _first_kernel(first.model_))


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_verbose_1_shows_progress_within_epochs_and_the_runs_time_left(entry, data, tmp_path, capsys):
    _applies("progress", entry)
    train_through(entry, tmp_path, *data, params={"verbose": 1})
    err = capsys.readouterr().err
    assert "epoch 1/" in err and "faces/s" in err
    if entry != "partial_fit":  # one epoch per call: no run beyond it
        assert "left in the run" in err


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_frozen_blocks_keep_their_initial_weights(entry, data, tmp_path):
    _applies("freeze_blocks", entry)
    clf = train_through(entry, tmp_path, *data, params={"freeze_blocks": 1})
    X, _ = data
    fresh = clone(clf).initialize(X[: len(clf.classes_)], clf.classes_)
    np.testing.assert_array_equal(_first_kernel(clf.model_), _first_kernel(fresh.model_))


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_class_weight_changes_the_loss(entry, data, tmp_path):
    _applies("class_weight", entry)
    plain = train_through(entry, tmp_path / "a", *data)
    weighted = train_through(entry, tmp_path / "b", *data, params={"class_weight": {0: 5.0, 1: 1.0, 2: 1.0}})
    assert weighted.history_["loss"][0] != pytest.approx(plain.history_["loss"][0], rel=1e-3)


@pytest.mark.parametrize("entry", ("fit", "partial_fit", "warm_start", "fit_dataset"))
def test_photometric_refuses_faces_outside_0_1_on_every_way_in(entry, data):
    # skfer train scales the CSV's pixels itself; partial_fit and warm starts are checked on a later call
    X, y = data
    clf = FERClassifier(**{**TINY, "augmentation": Augmentation(photometric=1.0)},
                        warm_start=entry == "warm_start", random_state=0)
    if entry == "partial_fit":
        clf.partial_fit(X, y)
    if entry == "warm_start":
        clf.fit(X, y)
    with pytest.raises(ValueError, match=r"augmentation__photometric=1.0 needs faces scaled to \[0, 1\].*faces span \[0, 2"):
        if entry == "fit_dataset":
            fit_dataset(clf, Faces(X * 255, y))
        elif entry == "partial_fit":
            clf.partial_fit(X * 255, y)
        else:
            clf.fit(X * 255, y)


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_sample_weight_changes_the_loss(entry, data, tmp_path):
    _applies("sample_weight", entry)
    X, y = data
    plain = train_through(entry, tmp_path, X, y)
    weighted = train_through(entry, tmp_path, X, y, sample_weight=np.where(y == 0, 5.0, 1.0))
    assert weighted.history_["loss"][0] != pytest.approx(plain.history_["loss"][0], rel=1e-3)


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_validation_labels_in_any_form_give_the_same_validation(entry, data, tmp_path):
    _applies("validation_labels", entry)
    X, y = data
    as_ints = train_through(entry, tmp_path, X, y, validation=(X[:20], y[:20]))
    as_names = train_through(entry, tmp_path, X, y, validation=(X[:20], np.asarray(EMOTIONS)[y[:20]]))
    assert len(as_ints.history_["val_loss"]) == len(as_ints.history_["loss"])
    np.testing.assert_allclose(as_names.history_["val_loss"], as_ints.history_["val_loss"], rtol=1e-5)


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_recipe_schedule_and_timer_act(entry, data, tmp_path):
    _applies("recipe_callbacks", entry)
    clf = train_through(entry, tmp_path, *data, params={"lr_schedule": "cosine", "learning_rate": 1e-3})
    schedule = CosineSchedule(clf.learning_rate, clf.epochs)
    n = len(clf.history_["loss"])
    np.testing.assert_allclose(clf.history_["learning_rate"], [schedule.rate(e) for e in range(n)], rtol=1e-6)
    assert all(s is not None and s > 0 for s in clf.history_["epoch_seconds"])


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_seeded_runs_give_identical_weights(entry, data, tmp_path):
    _applies("seeding", entry)
    first = train_through(entry, tmp_path / "a", *data)
    second = train_through(entry, tmp_path / "b", *data)
    for a, b in zip(first.model_.get_weights(), second.model_.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_skfer_train_opens_with_whether_it_resumes_and_closes_with_its_speed(data, tmp_path, capsys):
    X, y = data
    params = {k: v for k, v in TINY.items() if k != "epochs"}
    csv = _csv(tmp_path, np.round(X * 255), y)

    def opening():
        train_fer2013(tmp_path / "run", data=csv, epochs=2, verbose=2, **params)
        return [line for line in capsys.readouterr().out.splitlines() if line.startswith("skfer train:")]

    first = opening()
    assert len(first) == 2 and "recipe crop_cosine_k3_relu, 2 epochs" in first[0]
    assert str(csv) in first[0] and "a new run" in first[0]
    assert re.search(r"\d+ faces/s \(median epoch\), \d+ GFLOP/s", first[1])
    if fp32_peak_gflops() is not None:
        assert "of this CPU's estimated FP32 peak" in first[1]
    memory = json.loads((tmp_path / "run" / "metrics.json").read_text())["peak_memory_mb"]
    assert memory > 100 and f"peak memory {memory:,.0f} MB" in first[1]  # TensorFlow alone takes more
    assert "holds the checkpoint of a finished run: it is resumed if this same command wrote it" in opening()[0]
    state_file = tmp_path / "run" / "checkpoint" / "state.json"
    state = json.loads(state_file.read_text())
    state.update(finished=False, epoch=1, history={k: v[:1] for k, v in state["history"].items()})
    state_file.write_text(json.dumps(state))
    assert "a run stopped after epoch 1" in opening()[0]
