import json
import math
import subprocess
import sys
import time

import numpy as np
import pytest

from skfer import Augmentation, FERClassifier

from .conftest import TINY

_SCRIPT = """
import sys, time, keras, numpy as np
from skfer import FERClassifier

class Slow(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        time.sleep(0.5)

rng = np.random.default_rng(0)
X, y = rng.random((60, 2304), dtype=np.float32), np.arange(60) % 3
FERClassifier(**{params}, callbacks=[Slow]).fit(X, y)
"""


def test_killed_fit_resumes_from_last_finished_epoch(tmp_path):
    params = {**TINY, "epochs": 8, "random_state": 0, "checkpoint_dir": str(tmp_path / "ckpt"),
              "resume": True}
    state_file = tmp_path / "ckpt" / "state.json"
    run = subprocess.Popen([sys.executable, "-c", _SCRIPT.replace("{params}", repr(params))])
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and run.poll() is None:
        if state_file.exists() and json.loads(state_file.read_text())["epoch"] >= 2:
            break
        time.sleep(0.1)
    run.kill()
    run.wait()
    saved = json.loads(state_file.read_text())
    assert 2 <= saved["epoch"] < 8 and not saved["finished"]

    rng = np.random.default_rng(0)
    X, y = rng.random((60, 2304), dtype=np.float32), np.arange(60) % 3
    clf = FERClassifier(**params).fit(X, y)
    done = saved["epoch"]
    assert len(clf.history_["loss"]) == 8
    assert clf.history_["loss"][:done] == saved["history"]["loss"][:done]
    steps = math.ceil(len(X) / clf.batch_size)
    assert int(clf.model_.optimizer.iterations) == 8 * steps  # optimizer state carried over
    assert json.loads(state_file.read_text())["finished"]

    again = FERClassifier(**params).fit(X, y)  # a finished checkpoint loads without training
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))


def _data(n=60):
    rng = np.random.default_rng(0)
    return rng.random((n, 2304), dtype=np.float32), np.arange(n) % 3


def test_cross_validation_with_a_shared_checkpoint_dir_gives_independent_folds(tmp_path):
    # Folds 2 and 3 used to load fold 1's finished checkpoint: three identical models.
    from sklearn.model_selection import cross_validate

    X, y = _data()
    clf = FERClassifier(**TINY, random_state=0, checkpoint_dir=str(tmp_path))
    with pytest.warns(UserWarning, match="written by a different fit"):
        fitted = cross_validate(clf, X, y, cv=3, return_estimator=True)["estimator"]
    kernels = [e.model_.get_layer("conv1_1").get_weights()[0] for e in fitted]
    assert not np.allclose(kernels[0], kernels[1]) and not np.allclose(kernels[1], kernels[2])


def test_resuming_a_checkpoint_of_other_parameters_or_data_says_what_differs(tmp_path):
    X, y = _data()
    FERClassifier(**TINY, random_state=0, checkpoint_dir=str(tmp_path)).fit(X[:30], y[:30])
    changed = FERClassifier(**{**TINY, "architecture__filters": (8,)}, random_state=0,
                            checkpoint_dir=str(tmp_path), resume=True)
    with pytest.raises(ValueError, match=r"architecture__filters=\(4,\) in the checkpoint, \(8,\) now.*30 training faces"):
        changed.fit(X, y)
    with pytest.warns(UserWarning, match="architecture__filters=.*will be replaced"):
        changed.set_params(resume="if_matching").fit(X, y)
    assert changed.model_.get_layer("conv1_1").get_weights()[0].shape[-1] == 8
    assert len(changed.history_["loss"]) == TINY["epochs"]


def test_partial_fit_counts_epochs_and_never_marks_the_checkpoint_finished(tmp_path):
    X, y = _data()
    params = {**TINY, "epochs": 4, "random_state": 0, "checkpoint_dir": str(tmp_path)}
    clf = FERClassifier(**params)
    clf.partial_fit(X, y)
    clf.partial_fit(X, y)
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["epoch"] == 2 and not state["finished"] and len(state["history"]["loss"]) == 2
    resumed = FERClassifier(**params, resume=True).fit(X, y)  # trains the 2 epochs left
    assert len(resumed.history_["loss"]) == 4
    assert resumed.history_["loss"][:2] == state["history"]["loss"]


def test_early_stopping_and_plateau_counters_survive_a_resume(tmp_path, monkeypatch):
    import skfer.estimator._training as classifier_module

    X, y = _data()
    params = {**TINY, "epochs": 3, "random_state": 0, "checkpoint_dir": str(tmp_path),
              "resume": True, "early_stopping": True, "early_stopping__patience": 50,
              "lr_schedule": "plateau", "lr_schedule__patience": 50}
    FERClassifier(**params).fit(X, y, validation_data=(X, y))
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["callbacks"]["EarlyStopping"]["best"] == max(state["history"]["val_accuracy"])
    # An unreachable best accuracy, so only a restored counter can hold it.
    state["callbacks"]["EarlyStopping"].update(best=2.0, wait=7.0)
    state["callbacks"]["ReduceLROnPlateau"].update(best=2.0, wait=5.0)
    state["finished"] = False
    (tmp_path / "state.json").write_text(json.dumps(state))

    made = []
    real = classifier_module.recipe_callbacks
    monkeypatch.setattr(classifier_module, "recipe_callbacks",
                        lambda *args: made.extend(real(*args)) or made)
    resumed = FERClassifier(**{**params, "epochs": 5}).fit(X, y, validation_data=(X, y))
    _timer, plateau, stopping = made[:3]
    assert stopping.best == 2.0 and stopping.wait == 7 + 2
    assert plateau.best == 2.0 and plateau.wait == 5 + 2
    assert resumed.history_["val_accuracy"][:3] == state["history"]["val_accuracy"]


def test_a_resumed_fit_does_not_replay_the_first_epochs_random_draws(tmp_path):
    # Keras saves no seed-generator state: a fit resumed from disk drew the
    # first epoch's dropout masks and crops again (epochs 11-13 replayed in a
    # long run: training accuracy jumped 4 points, validation fell).
    import shutil

    import keras

    def streams(model):
        return [v.numpy().tolist() for v in model.variables if v.path.endswith("seed_generator_state")]

    class Record(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            seen.append((epoch, streams(self.model)))

    X, y = _data()
    params = {**TINY, "augmentation": Augmentation, "epochs": 3, "random_state": 0,
              "checkpoint_dir": str(tmp_path / "a"), "callbacks": [Record]}
    seen = []
    FERClassifier(**params).partial_fit(X, y)  # epoch 1, checkpointed, not finished
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    FERClassifier(**params, resume=True).fit(X, y)  # epochs 2-3 from the checkpoint
    FERClassifier(**{**params, "checkpoint_dir": str(tmp_path / "b")}, resume=True).fit(X, y)
    (first, fresh), (second, resumed), _, (again_epoch, again), _ = seen
    assert (first, second, again_epoch) == (0, 1, 1) and fresh
    assert all(a != b for a, b in zip(resumed, fresh))  # new draws for every layer
    assert again == resumed  # the same checkpoint resumes the same way


def _checkpointed(tmp_path, epochs=2):
    X, y = _data()
    params = {**TINY, "epochs": epochs, "random_state": 0, "checkpoint_dir": str(tmp_path), "resume": True}
    FERClassifier(**params).partial_fit(X, y)  # one epoch saved, not finished
    return params, X, y


@pytest.mark.parametrize("damage", ["model cut short", "model missing", "state cut short", "state empty"])
def test_a_damaged_checkpoint_names_the_file_and_the_way_out(tmp_path, damage):
    from skfer.estimator._checkpoint import CheckpointDamagedError

    params, X, y = _checkpointed(tmp_path)
    state_file = tmp_path / "state.json"
    model_file = tmp_path / json.loads(state_file.read_text())["model_file"]
    target = model_file if damage.startswith("model") else state_file
    if damage == "model missing":
        target.unlink()
    else:
        text = target.read_bytes()
        target.write_bytes(b"" if damage == "state empty" else text[: len(text) // 2])
    with pytest.raises(CheckpointDamagedError, match=rf"{target}.*damaged.*resume=False.*--restart"):
        FERClassifier(**params).fit(X, y)
    # Starting over (resume=False) replaces it, with a warning for a damaged state.
    clf = FERClassifier(**{**params, "resume": False})
    if target == state_file:
        with pytest.warns(UserWarning, match="damaged.*replaced"):
            clf.fit(X, y)
    else:
        clf.fit(X, y)
    assert json.loads(state_file.read_text())["finished"]


def test_a_crash_while_saving_keeps_the_last_complete_checkpoint(tmp_path, monkeypatch):
    import skfer.estimator._checkpoint as checkpoint_module

    params, X, y = _checkpointed(tmp_path, epochs=3)
    kept = json.loads((tmp_path / "state.json").read_text())
    real = checkpoint_module.write_atomically

    def disk_full_at_state(path, write):
        if path.name == "state.json":
            raise OSError(28, "No space left on device")
        real(path, write)

    monkeypatch.setattr(checkpoint_module, "write_atomically", disk_full_at_state)
    with pytest.raises(OSError, match="No space left"):
        FERClassifier(**params).fit(X, y)  # epoch 2's model is written, its state is not
    monkeypatch.undo()
    assert json.loads((tmp_path / "state.json").read_text()) == kept
    resumed = FERClassifier(**params).fit(X, y)  # from epoch 1, intact
    assert len(resumed.history_["loss"]) == 3
    assert resumed.history_["loss"][0] == kept["history"]["loss"][0]


_HOLD = """
import sys, time
from skfer._files import FolderLock
with FolderLock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_second_run_on_a_held_folder_is_refused_and_a_killed_run_leaves_no_stale_lock(tmp_path):
    from skfer._files import FolderInUseError

    X, y = _data()
    params = {**TINY, "random_state": 0, "checkpoint_dir": str(tmp_path)}
    holder = subprocess.Popen([sys.executable, "-c", _HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(FolderInUseError, match=rf"{tmp_path} is in use by another run \(process {holder.pid}"):
            FERClassifier(**params).fit(X, y)
        assert not (tmp_path / "state.json").exists()  # refused before touching the checkpoint
    finally:
        holder.kill()
        holder.wait()
    FERClassifier(**params).fit(X, y)  # the killed holder's lock is gone with it
    assert json.loads((tmp_path / "state.json").read_text())["finished"]


def test_a_resumed_fit_says_where_it_resumes(tmp_path, capsys):
    params, X, y = _checkpointed(tmp_path, epochs=3)
    capsys.readouterr()
    FERClassifier(**{**params, "verbose": 2}).fit(X, y)
    assert f"Resuming the fit in {tmp_path} after epoch 1 of 3." in capsys.readouterr().out


def test_skfer_train_refuses_an_output_folder_that_a_live_run_holds(tmp_path, fer_dir):
    from skfer._files import FolderInUseError
    from skfer.experiments._train import train_fer2013

    holder = subprocess.Popen([sys.executable, "-c", _HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(FolderInUseError, match=f"{tmp_path} is in use by another run"):
            train_fer2013(tmp_path, data=fer_dir, epochs=1)  # the data is read first, then the lock
    finally:
        holder.kill()
        holder.wait()


def test_a_resumed_fit_reproduces_the_uninterrupted_fit(tmp_path):
    import keras

    class Crash(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:
                raise RuntimeError("power cut")

    X, y = _data()
    params = {**TINY, "augmentation": Augmentation, "dropout": 0.3, "epochs": 4, "random_state": 0}
    whole = FERClassifier(**params).fit(X, y)
    interrupted = {**params, "checkpoint_dir": str(tmp_path), "resume": True}
    with pytest.raises(RuntimeError, match="power cut"):
        FERClassifier(**interrupted, callbacks=[Crash]).fit(X, y)  # epochs 1-2 checkpointed
    resumed = FERClassifier(**interrupted).fit(X, y)  # epochs 3-4 from the checkpoint
    np.testing.assert_allclose(resumed.history_["loss"], whole.history_["loss"], rtol=1e-5)
    for a, b in zip(resumed.model_.get_weights(), whole.model_.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


_DRAWS = """
import random, sys, numpy as np, tensorflow as tf, keras
from skfer import FERClassifier
tf.random.set_seed(7); np.random.seed(7); random.seed(7); keras.utils.set_random_seed(7)
_ = tf.random.uniform(()), keras.random.uniform(())
X = np.random.default_rng(0).random((20, 2304), dtype=np.float32)
if sys.argv[1] == "fit":
    clf = FERClassifier(architecture__filters=(4,), architecture__dense_units=8, dropout=0.1, epochs=1, random_state=0)
    clf.fit(X, np.arange(20) % 2)
print(float(tf.random.uniform(())), float(keras.random.uniform(())), np.random.rand(), random.random())
"""


def test_a_seeded_fit_leaves_tensorflow_and_keras_generators_alone():
    draws = {
        mode: subprocess.run([sys.executable, "-c", _DRAWS, mode], capture_output=True, text=True,
                             check=True).stdout.split()
        for mode in ("fit", "no fit")
    }
    assert draws["fit"] == draws["no fit"] and len(draws["fit"]) == 4


@pytest.mark.parametrize("native", [True, False])
def test_a_run_keeps_the_dtype_it_started_in(tmp_path, monkeypatch, native):
    # A run started in bfloat16 on a Zen 5 and resumed on a Zen 3 goes on in bfloat16, and says so.
    from skfer.experiments import _train

    monkeypatch.setattr(_train, "native_bfloat16", lambda: native)
    assert _train._run_dtype(tmp_path, restart=False) == ("bfloat16" if native else "float32")
    state = {"epoch": 3, "finished": False, "history": {},
             "fingerprint": {"params": {"train_dtype": "'bfloat16'"}}}
    (tmp_path / "state.json").write_text(json.dumps(state))
    if native:
        assert _train._run_dtype(tmp_path, restart=False) == "bfloat16"
    else:
        with pytest.warns(UserWarning, match="started in bfloat16; it goes on in bfloat16"):
            assert _train._run_dtype(tmp_path, restart=False) == "bfloat16"
    assert _train._run_dtype(tmp_path, restart=True) == ("bfloat16" if native else "float32")
