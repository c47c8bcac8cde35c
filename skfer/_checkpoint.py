"""Per-epoch checkpoints that let an interrupted fit resume where it stopped."""

import json
import os
from pathlib import Path

import keras
import numpy as np

# Counters of the recipe callbacks that must survive a restart.
_CALLBACK_STATE = {
    "EarlyStopping": ("wait", "best", "best_epoch"),
    "ReduceLROnPlateau": ("wait", "best", "cooldown_counter"),
}
_MODEL, _STATE, _BEST = "model.keras", "state.json", "best.weights.npz"


def _replace(path, write):
    """Write ``path`` through a temporary file so a kill never leaves it half-written."""
    tmp = path.with_name("tmp-" + path.name)
    write(tmp)
    os.replace(tmp, path)


def load_checkpoint(directory):
    """Read a checkpoint written by :class:`EpochCheckpoint`.

    Parameters
    ----------
    directory : str or path-like
        The checkpoint folder.

    Returns
    -------
    dict or None
        ``model`` (keras.Model with its optimizer state), ``epoch`` (epochs
        finished), ``finished`` (whether training ended), ``history`` (dict of
        lists) and ``callbacks`` (saved callback counters); None when the
        folder holds no checkpoint.

    Examples
    --------
    >>> from skfer._checkpoint import load_checkpoint
    >>> load_checkpoint("/no/such/folder") is None
    True
    """
    directory = Path(directory)
    if not (directory / _STATE).is_file():
        return None
    state = json.loads((directory / _STATE).read_text())
    state["model"] = keras.saving.load_model(directory / _MODEL)
    best = directory / _BEST
    if best.is_file():
        with np.load(best) as saved:
            state["best_weights"] = [saved[f"w{i}"] for i in range(len(saved.files))]
    return state


class EpochCheckpoint(keras.callbacks.Callback):
    """Save model, optimizer state, history and callback counters after every epoch.

    The files are replaced atomically, so a run killed at any moment loses
    at most the epoch in progress. :class:`FERClassifier` adds this callback
    when ``checkpoint_dir`` is set and resumes from it.

    Parameters
    ----------
    directory : str or path-like
        Folder for ``model.keras``, ``state.json`` and ``best.weights.npz``.
    watched : list of keras.callbacks.Callback, default=()
        EarlyStopping / ReduceLROnPlateau instances whose counters are saved
        and restored.
    resumed : dict, default=None
        A checkpoint from :func:`load_checkpoint` to restore at the start of
        training.
    history : dict of str to list, default=None
        Metrics of the epochs already run.

    Examples
    --------
    >>> from skfer._checkpoint import EpochCheckpoint
    >>> EpochCheckpoint("ckpt").directory.name
    'ckpt'
    """

    def __init__(self, directory, watched=(), resumed=None, history=None):
        super().__init__()
        self.directory = Path(directory)
        self.watched = list(watched)
        self.resumed = resumed
        self.history = {k: list(v) for k, v in (history or {}).items()}

    def on_train_begin(self, logs=None):
        if self.resumed is None:
            return
        for callback in self.watched:
            saved = self.resumed["callbacks"].get(type(callback).__name__, {})
            for name, value in saved.items():
                setattr(callback, name, value)
            if isinstance(callback, keras.callbacks.EarlyStopping) and "best_weights" in self.resumed:
                callback.best_weights = self.resumed["best_weights"]

    def _save(self, epoch, finished):
        self.directory.mkdir(parents=True, exist_ok=True)
        _replace(self.directory / _MODEL, self.model.save)
        callbacks = {}
        for callback in self.watched:
            names = _CALLBACK_STATE.get(type(callback).__name__, ())
            callbacks[type(callback).__name__] = {
                n: (None if getattr(callback, n) is None else float(getattr(callback, n)))
                for n in names
            }
            best_weights = getattr(callback, "best_weights", None)
            if best_weights is not None:
                arrays = {f"w{i}": w for i, w in enumerate(best_weights)}
                _replace(self.directory / _BEST, lambda p: np.savez(open(p, "wb"), **arrays))
        state = {"epoch": epoch, "finished": finished, "history": self.history, "callbacks": callbacks}
        _replace(self.directory / _STATE, lambda p: p.write_text(json.dumps(state)))

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        self._save(epoch + 1, finished=False)

    def on_train_end(self, logs=None):
        epochs = len(next(iter(self.history.values()), []))
        self._save(epochs, finished=True)
