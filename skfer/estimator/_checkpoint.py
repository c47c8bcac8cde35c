"""Per-epoch checkpoints that only ever resume the fit that wrote them.

Each checkpoint stores, beside the model and its optimizer state, a
fingerprint of the fit: the parameters that shape the model and its
training, the classes, and the training data's shape and content hash. A
fit resumes a checkpoint only when its own fingerprint is the same, so a
quick run, another fold of a cross-validation or other parameters can never
hand back a model that they did not train.
"""

import hashlib
import inspect
import json
import warnings
from pathlib import Path

import keras
import numpy as np

from .._constants import N_PIXELS
from .._files import write_atomically
from ._seeding import seed_states

# Counters of the recipe callbacks that must survive a restart (public attributes).
_CALLBACK_STATE = {
    "EarlyStopping": ("wait", "best", "best_epoch"),
    "ReduceLROnPlateau": ("wait", "best", "cooldown_counter"),
}
_STATE = "state.json"

#: Parameters that do not change what a fit learns (left out of the fingerprint).
_NOT_LEARNED = frozenset(
    {"verbose", "checkpoint_dir", "resume", "predict_dtype", "tta", "callbacks", "warm_start"}
)


class CheckpointDamagedError(ValueError):
    """A checkpoint file is cut short or unreadable (a crash or a full disk while it was written).

    Examples
    --------
    >>> from skfer.estimator._checkpoint import CheckpointDamagedError
    >>> issubclass(CheckpointDamagedError, ValueError)
    True
    """


class CheckpointMismatchError(ValueError):
    """A checkpoint to resume was written by a different fit (other parameters or data).

    Examples
    --------
    >>> from skfer.estimator._checkpoint import CheckpointMismatchError
    >>> issubclass(CheckpointMismatchError, ValueError)
    True
    """


def _describe(value):
    """A stable text for a parameter value (classes by name, no memory addresses)."""
    if isinstance(value, type):
        return f"{value.__module__}.{value.__qualname__}"
    if isinstance(value, list):
        return f"[{', '.join(map(_describe, value))}]"
    if isinstance(value, tuple):
        return f"({', '.join(map(_describe, value))}{',' if len(value) == 1 else ''})"
    if value is None or isinstance(value, (bool, int, float, str, np.generic)):
        return repr(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_describe(v)}" for k, v in sorted(value.items())) + "}"
    return type(value).__qualname__


def data_sha256(*arrays):
    """A hash of arrays' dtypes, shapes and contents: the training data's identity in a fingerprint.

    Examples
    --------
    >>> import numpy as np
    >>> from skfer.estimator._checkpoint import data_sha256
    >>> data_sha256(np.zeros(3), np.arange(3)) == data_sha256(np.zeros(3), np.arange(3))
    True
    """
    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(str((array.dtype.str, array.shape)).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def fingerprint(estimator, n_samples, sha256, epochs=None):
    """Describe a fit: its learning parameters, classes and training data.

    Parameters
    ----------
    estimator : FERClassifier
        The estimator being fitted (``classes_`` set).
    n_samples : int
        Faces in the training data.
    sha256 : str
        A hash of the training data (:func:`data_sha256`).
    epochs : int, default=None
        The fit's schedule length, where a ``fit(..., epochs=n)`` keyword
        set it; None: the ``epochs`` parameter.

    Returns
    -------
    dict
        ``params`` (name to text), ``defaults`` (the defaults of those
        parameters, as text), ``classes``, ``n_samples``, ``n_features`` and
        ``data_sha256``. ``epochs`` counts only under the cosine and
        one-cycle schedules, whose shape depends on it.

    Examples
    --------
    >>> import numpy as np
    >>> from skfer import FERClassifier
    >>> from skfer.estimator._checkpoint import fingerprint
    >>> clf = FERClassifier(lr_schedule="plateau")
    >>> clf.classes_ = np.array([0, 1])
    >>> print_ = fingerprint(clf, 4, "0" * 64)
    >>> print_["n_samples"], "epochs" in print_["params"], "dropout" in print_["params"]
    (4, False, True)
    """
    params = estimator.get_params()
    if epochs is not None:
        params["epochs"] = epochs
    skipped = set(_NOT_LEARNED)
    if params.get("lr_schedule") not in ("cosine", "onecycle"):
        skipped.add("epochs")
    described = {
        name: _describe(value)
        for name, value in sorted(params.items())
        if name not in skipped and not name.startswith(("predict__", "callbacks__", "fit__"))
    }
    signature = inspect.signature(type(estimator).__init__).parameters
    return {
        "params": described,
        "defaults": {
            name: _describe(signature[name].default) for name in described if name in signature
        },
        "classes": [_describe(c) for c in np.asarray(estimator.classes_).tolist()],
        "n_samples": int(n_samples),
        "n_features": N_PIXELS,
        "data_sha256": sha256,
    }


def differences(saved, current):
    """What differs between two fingerprints, as readable phrases.

    A parameter one fingerprint lacks (one added to skfer after the
    checkpoint was written) matches when the other has its default value.

    Examples
    --------
    >>> from skfer.estimator._checkpoint import differences
    >>> a = {"params": {"epochs": "3"}, "classes": [], "n_samples": 10, "n_features": 4, "data_sha256": "x"}
    >>> b = {"params": {"epochs": "100"}, "classes": [], "n_samples": 20, "n_features": 4, "data_sha256": "y"}
    >>> differences(a, b)
    ['epochs=3 in the checkpoint, 100 now', '10 training faces in the checkpoint, 20 now', 'other training data (content hash differs)']
    >>> newer = {**a, "params": {"epochs": "3", "erasing": "0.0"}, "defaults": {"erasing": "0.0"}}
    >>> differences(a, newer)
    []
    """
    found = []
    defaults = {**saved.get("defaults", {}), **current.get("defaults", {})}
    for name in sorted(set(saved["params"]) | set(current["params"])):
        unset = defaults.get(name, "unset")
        old, new = saved["params"].get(name, unset), current["params"].get(name, unset)
        if old != new:
            found.append(f"{name}={old} in the checkpoint, {new} now")
    if saved["classes"] != current["classes"]:
        found.append(f"classes {saved['classes']} in the checkpoint, {current['classes']} now")
    if saved["n_samples"] != current["n_samples"]:
        found.append(
            f"{saved['n_samples']} training faces in the checkpoint, {current['n_samples']} now"
        )
    if saved["n_features"] != current["n_features"]:
        found.append(f"{saved['n_features']} features in the checkpoint, {current['n_features']} now")
    if saved["data_sha256"] != current["data_sha256"]:
        found.append("other training data (content hash differs)")
    return found


def aligned_history(history):
    """``history`` with every per-epoch list as long as ``loss``, shorter ones padded with None in front.

    A metric first recorded in a resumed fit (one skfer added later, such
    as ``epoch_seconds``) then lines up with its epochs.

    Examples
    --------
    >>> from skfer.estimator._checkpoint import aligned_history
    >>> aligned_history({"loss": [3.0, 2.0, 1.0], "epoch_seconds": [9.5]})
    {'loss': [3.0, 2.0, 1.0], 'epoch_seconds': [None, None, 9.5]}
    """
    epochs = len(history.get("loss", []))
    return {key: [None] * (epochs - len(values)) + list(values) for key, values in history.items()}


def _file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _damaged(path, reason):
    return CheckpointDamagedError(
        f"The checkpoint file {path} is damaged ({reason}), so the run cannot resume from it. "
        "Start the run over with resume=False (from the command line: --restart); that "
        "replaces the checkpoint."
    )


def read_state(directory):
    """The ``state.json`` of a checkpoint folder, or None when it holds none.

    Examples
    --------
    >>> from skfer.estimator._checkpoint import read_state
    >>> read_state("/no/such/folder") is None
    True
    """
    path = Path(directory) / _STATE
    if not path.is_file():
        return None
    try:
        state = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _damaged(path, f"not valid JSON: {error}") from None
    if not isinstance(state, dict) or not {"epoch", "finished", "history"} <= set(state):
        raise _damaged(path, "not a checkpoint state: epoch, finished or history missing")
    return state


def load_checkpoint(directory, current, resume):
    """The checkpoint in ``directory`` if it was written by the fit ``current`` describes.

    Parameters
    ----------
    directory : str or path-like
        The checkpoint folder.
    current : dict
        :func:`fingerprint` of the fit about to start.
    resume : bool or "if_matching"
        False: never resume (a different fit's checkpoint is replaced, with a
        warning). True: resume a matching checkpoint, raise if it does not
        match. ``"if_matching"``: resume a matching one, else warn and start
        fresh.

    Returns
    -------
    dict or None
        ``model`` (keras.Model with its optimizer state), ``epoch`` (epochs
        finished), ``finished``, ``history``, ``callbacks`` and maybe
        ``best_weights``; None to start fresh.

    Raises
    ------
    CheckpointMismatchError
        With ``resume=True``, when the checkpoint belongs to another fit; the
        message lists what differs.
    CheckpointDamagedError
        When a file of the checkpoint to resume is cut short or unreadable;
        the message names the file and the way out (``resume=False``).

    Examples
    --------
    >>> from skfer.estimator._checkpoint import load_checkpoint
    >>> load_checkpoint("/no/such/folder", {}, resume=True) is None
    True
    """
    if not resume:
        try:
            state = read_state(directory)
        except CheckpointDamagedError as error:
            warnings.warn(f"{error} It is replaced now.", UserWarning, stacklevel=4)
            return None
    else:
        state = read_state(directory)
    if state is None:
        return None
    found = differences(state["fingerprint"], current) if "fingerprint" in state else ["no fingerprint"]
    if found:
        listed = "; ".join(found)
        if resume is True:
            raise CheckpointMismatchError(
                f"The checkpoint in {str(directory)!r} was written by a different fit ({listed}). "
                "Resuming it would return a model these parameters and data did not train. Use "
                "another checkpoint_dir, or resume=False to start over and replace it."
            )
        warnings.warn(
            f"Starting a new fit in {str(directory)!r}: its checkpoint was written by a different "
            f"fit ({listed}) and will be replaced.",
            UserWarning,
            stacklevel=4,
        )
        return None
    if not resume:
        return None
    directory = Path(directory)
    # Checkpoints written before files were named by epoch hold model.keras and best.weights.npz.
    model_path = directory / state.get("model_file", "model.keras")
    if not model_path.is_file():
        raise _damaged(model_path, "missing")
    expected = state.get("model_sha256")  # older checkpoints recorded none
    if expected is not None and _file_sha256(model_path) != expected:
        raise _damaged(model_path, f"its content differs from the one {_STATE} recorded")
    try:
        state["model"] = keras.saving.load_model(model_path)
    except Exception as error:  # Keras reports a cut-short zip as a missing file
        raise _damaged(model_path, f"Keras cannot read it: {error}") from None
    n_classes = len(state["fingerprint"]["classes"])
    if tuple(state["model"].output_shape) != (None, n_classes):
        raise _damaged(
            model_path,
            f"its network outputs {state['model'].output_shape}, not {n_classes} class probabilities "
            f"(Keras {keras.__version__})",
        )
    best = directory / state.get("best_file", "best.weights.npz")
    if best.is_file():
        with np.load(best) as saved:
            state["best_weights"] = [saved[f"w{i}"] for i in range(len(saved.files))]
    return state


class Checkpoint(keras.callbacks.Callback):
    """Save model, optimizer state, history and callback counters after every epoch.

    Each file is replaced atomically (a temporary file, then a rename), so a
    run killed at any moment keeps the last complete checkpoint and loses at
    most the epoch in progress; ``state.json`` records the hash of the model
    file it names, so a damaged model file is caught on resuming
    (:class:`CheckpointDamagedError`). :class:`FERClassifier` adds this callback
    when ``checkpoint_dir`` is set, and resumes from it when ``resume``
    allows and the fingerprint matches (:func:`load_checkpoint`).

    Parameters
    ----------
    directory : str or path-like
        Folder for ``state.json`` and the files it names: the model
        (``model-EPOCH.keras``) and, with early stopping, the best weights
        (``best-EPOCH.weights.npz``).
    fingerprint : dict
        :func:`fingerprint` of the fit, stored with every save.
    watched : list of keras.callbacks.Callback, default=()
        EarlyStopping / ReduceLROnPlateau instances whose public counters
        are saved and restored.
    resumed : dict, default=None
        A checkpoint from :func:`load_checkpoint` to restore at the start.
    history : dict of str to list, default=None
        Metrics of the epochs already run (resumed or earlier partial fits).
    finish : bool, default=True
        Whether the end of training marks the run finished (``fit``), or not
        (``partial_fit``, which may be called again).

    Examples
    --------
    >>> from skfer.estimator._checkpoint import Checkpoint
    >>> Checkpoint("ckpt", fingerprint={}).directory.name
    'ckpt'
    """

    def __init__(self, directory, fingerprint, watched=(), resumed=None, history=None, finish=True):
        super().__init__()
        self.directory = Path(directory)
        self.fingerprint = fingerprint
        self.watched = list(watched)
        self.resumed = resumed
        self.history = {k: list(v) for k, v in (history or {}).items()}
        self.finish = finish

    def on_train_begin(self, logs=None):
        if self.resumed is None:
            return
        for callback in self.watched:
            saved = self.resumed["callbacks"].get(type(callback).__name__, {})
            for name, value in saved.items():
                setattr(callback, name, value)
            if isinstance(callback, keras.callbacks.EarlyStopping) and "best_weights" in self.resumed:
                callback.best_weights = self.resumed["best_weights"]

    def _save(self, epoch, finished, tag):
        """Write this save's files under new names, then the state naming them, then drop older files.

        The state is renamed into place last, so at every moment it names
        complete files: a crash keeps the previous checkpoint whole.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        model_file = f"model-{tag}.keras"
        write_atomically(self.directory / model_file, self.model.save)
        state = {"epoch": epoch, "finished": finished, "history": self.history, "callbacks": {},
                 "fingerprint": self.fingerprint, "model_file": model_file,
                 "seed_states": seed_states(self.model),
                 "model_sha256": _file_sha256(self.directory / model_file)}
        for callback in self.watched:
            names = _CALLBACK_STATE.get(type(callback).__name__, ())
            state["callbacks"][type(callback).__name__] = {
                n: (None if getattr(callback, n) is None else float(getattr(callback, n)))
                for n in names
            }
            best_weights = getattr(callback, "best_weights", None)
            if best_weights is not None:
                arrays = {f"w{i}": w for i, w in enumerate(best_weights)}
                state["best_file"] = f"best-{tag}.weights.npz"
                write_atomically(self.directory / state["best_file"], lambda p: np.savez(p, **arrays))
        write_atomically(self.directory / _STATE, lambda p: p.write_text(json.dumps(state)))
        kept = {_STATE, model_file, state.get("best_file")}
        for path in self.directory.iterdir():
            if path.name not in kept and path.name.endswith((".keras", ".weights.npz")):
                path.unlink(missing_ok=True)

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        self.history = aligned_history(self.history)
        self._save(epoch + 1, finished=False, tag=f"{epoch + 1:04d}")

    def on_train_end(self, logs=None):
        epoch = len(self.history.get("loss", []))
        self._save(epoch, finished=self.finish, tag=f"{epoch:04d}-end")
