"""The one training routine behind ``fit``, ``partial_fit``, warm starts, ``fit_dataset`` and ``skfer train``.

Every entry point hands :func:`train` its data as an :class:`ArrayData` (faces
in memory) or a :class:`DatasetData` (batches a ``keras.utils.PyDataset``
reads), and :func:`train` does the rest the same way for both: layer
freezing, the recipe's callbacks, the user's callbacks, checkpoint and
resume under a folder lock, progress, and the history.
"""

import contextlib
import warnings
from collections import defaultdict

import keras
import numpy as np
from sklearn.utils.class_weight import compute_class_weight, compute_sample_weight

from .._files import FolderLock
from .._labels import align_labels
from .._progress import EpochProgress
from ..inference._engine import CALIBRATION_FACES
from ..inference._routine import renew_predictor
from ..models._fine_tune import freeze_blocks, transfer_body
from ._batches import EpochBatches
from ._callbacks import recipe_callbacks
from ._checkpoint import Checkpoint, aligned_history, data_sha256, fingerprint, load_checkpoint
from ._inputs import check_photometric_range
from ._network import build_network, compile_kwargs, routed, user_callbacks
from ._seeding import reseed_resumed, restore_seed_states, seed_from

#: ``fit__*`` / ``fit(**kwargs)`` options that shape the batches rather than reach ``keras.Model.fit``.
BATCH_OPTIONS = ("batch_size", "shuffle", "validation_split")


class ArrayData:
    """Encoded faces in memory, batched in an order drawn from the fit's seed and the epoch.

    ``validation_split`` holds out the last faces, as Keras does; they are
    :attr:`validation`.

    Parameters
    ----------
    X, y : ndarray
        Encoded faces and targets.
    sample_weight : ndarray or None
        Weight of each face.
    batch_size : int
        Faces per step; -1 for all.
    seed : int or None
        The fit's seed (:func:`skfer.estimator._seeding.seed_from`).
    shuffle : bool
        Whether each epoch draws a new order.
    validation_split : float
        Fraction of the faces held out for validation.

    Examples
    --------
    >>> import numpy as np
    >>> from skfer.estimator._training import ArrayData
    >>> data = ArrayData(np.zeros((10, 2304)), np.arange(10) % 2, None, 4, 0, True, 0.2)
    >>> data.n_faces, len(data.validation[0]), len(data.batches(0))
    (8, 2, 2)
    """

    def __init__(self, X, y, sample_weight, batch_size, seed, shuffle, validation_split):
        n_val = int(len(X) * validation_split)
        self.validation = None
        if n_val:
            held = slice(len(X) - n_val, None)
            self.validation = (X[held], y[held]) if sample_weight is None else (X[held], y[held], sample_weight[held])
            X, y = X[: len(X) - n_val], y[: len(y) - n_val]
            sample_weight = None if sample_weight is None else sample_weight[: len(X)]
        self.X, self.y, self.sample_weight = X, y, sample_weight
        self.batch_size = len(X) if batch_size == -1 else batch_size
        self.seed, self.shuffle = seed, bool(shuffle)
        self.n_faces = len(X)

    def sha256(self):
        """Hash of the faces and targets, for the checkpoint's fingerprint."""
        return data_sha256(self.X, self.y)

    def batches(self, first_epoch):
        """The :class:`EpochBatches` of a fit whose first epoch is ``first_epoch``."""
        return EpochBatches(self.X, self.y, self.sample_weight, self.batch_size, self.seed,
                            first_epoch=first_epoch, shuffle=self.shuffle)

    def faces(self):
        """The faces trained on (what an int8 engine is calibrated on)."""
        return self.X

    def fit_inputs(self, estimator, first_epoch, end_epoch):
        """The batches of a fit from ``first_epoch`` to ``end_epoch``, the callbacks and fit arguments they need.

        Under TensorFlow, one ``tf.data.Dataset`` of every epoch's batches
        (:meth:`EpochBatches.tf_dataset`, much faster) read for
        ``steps_per_epoch`` steps an epoch; under other backends the
        :class:`EpochBatches` and the callback that orders them.
        """
        batches = self.batches(first_epoch)
        if keras.backend.backend() == "tensorflow":
            return batches.tf_dataset(end_epoch), [], {"steps_per_epoch": len(batches)}
        return batches, [batches.callback()], {}


class DatasetData:
    """Batches a ``keras.utils.PyDataset`` reads, such as :class:`skfer.datasets.FaceFolderDataset`.

    The dataset sets the batch size and the order. A checkpoint needs the
    dataset's ``filenames`` and ``target`` (its identity in the
    fingerprint); ``class_weight="balanced"`` needs ``target``.

    Examples
    --------
    >>> import numpy as np
    >>> from skfer.estimator._training import DatasetData
    >>> class Batches:
    ...     filenames, target = ["a.png", "b.png"], np.array([0, 1])
    >>> DatasetData(Batches()).n_faces
    2
    """

    def __init__(self, dataset):
        self.dataset = dataset
        target = getattr(dataset, "target", None)
        self.n_faces = len(target) if target is not None else len(dataset) * getattr(dataset, "batch_size", 1)
        self.validation = None

    def faces(self):
        """Faces of the dataset's first batches, as many as an int8 engine's calibration takes."""
        batches, n = [], 0
        for index in range(len(self.dataset)):
            if n >= CALIBRATION_FACES:
                break
            batch = np.asarray(self.dataset[index][0], dtype=np.float32)
            batches.append(batch.reshape(len(batch), -1))
            n += len(batch)
        return np.concatenate(batches)

    def _named(self, attribute, need):
        value = getattr(self.dataset, attribute, None)
        if value is None:
            raise ValueError(
                f"{need} needs a dataset with a '{attribute}' attribute (as FaceFolderDataset has); "
                f"{type(self.dataset).__name__} has none."
            )
        return np.asarray(value)

    def sha256(self):
        """Hash of the dataset's file names and targets, for the checkpoint's fingerprint."""
        files = self._named("filenames", "checkpoint_dir").astype(str)
        return data_sha256(files, self._named("target", "checkpoint_dir"))

    def class_weight(self, estimator):
        """``class_weight`` as Keras takes it, by class position; None without one."""
        weights = estimator.class_weight
        if weights is None:
            return None
        if weights == "balanced":
            target = self._named("target", 'class_weight="balanced"')
            present = np.unique(target)
            weights = dict(zip(present.tolist(), compute_class_weight("balanced", classes=present, y=target)))
        return {i: float(weights.get(c, 1.0)) for i, c in enumerate(np.asarray(estimator.classes_).tolist())}

    def fit_inputs(self, estimator, first_epoch, end_epoch):
        """The dataset (it shuffles itself), no callbacks, and ``class_weight`` as a fit argument."""
        return self.dataset, [], {"class_weight": self.class_weight(estimator)}


def train(estimator, data, *, epochs, initial_epoch=0, partial=False, validation_data=None, fit_args=None):
    """Train ``estimator.model_`` on ``data``: the one routine every entry point calls.

    With ``checkpoint_dir`` the folder is held by a :class:`~skfer._files.FolderLock`
    for the whole fit, a matching checkpoint is resumed (``resume``), and a
    :class:`~skfer.estimator._checkpoint.Checkpoint` saves every epoch.
    ``verbose=1`` reports progress with :class:`~skfer._progress.EpochProgress`.
    Afterwards ``history_`` holds every epoch (a ``partial_fit`` or a
    resumed fit appends) and ``predictor_`` (and, for ``predict_dtype="int8"``,
    ``engine_``, calibrated on ``data.faces()``) is made for the trained model.

    Parameters
    ----------
    estimator : FERClassifier
        Initialized (``model_``, ``classes_``).
    data : ArrayData or DatasetData
        The training batches. Its ``fit_inputs(estimator, first_epoch, end_epoch)``
        gives ``keras.Model.fit`` the batches, the callbacks they need and
        more fit arguments (which ``fit_args`` override).
    epochs : int
        Epochs to train.
    initial_epoch : int, default=0
        Epochs trained before (``partial_fit``'s count).
    partial : bool, default=False
        A ``partial_fit`` step: never resumes, never marks the checkpoint finished.
    validation_data : tuple or keras.utils.PyDataset, default=None
        Encoded validation data; ``data.validation`` when None.
    fit_args : dict, default=None
        More arguments of ``keras.Model.fit`` (``verbose`` among them).

    Returns
    -------
    estimator : FERClassifier
        The trained estimator.

    Examples
    --------
    >>> import numpy as np
    >>> from skfer import FERClassifier
    >>> from skfer.estimator._training import ArrayData, train
    >>> X, y = np.zeros((8, 2304), np.float32), np.arange(8) % 2
    >>> clf = FERClassifier(filters=(4,), kernel_sizes=3, dropout=0.1, dense_units=8).initialize(X, y)
    >>> len(train(clf, ArrayData(X, y, None, 4, 0, True, 0.0), epochs=2).history_["loss"])
    2
    """
    if estimator.photometric:  # on every path in, before any epoch (a dataset gives its first batches)
        check_photometric_range(estimator.photometric, data.faces())
    folder = estimator.checkpoint_dir
    with FolderLock(folder) if folder is not None else contextlib.nullcontext():
        _train_held(estimator, data, epochs, initial_epoch, partial, validation_data, dict(fit_args or {}))
    estimator.history_ = defaultdict(list, aligned_history(estimator.history_))
    renew_predictor(estimator, data.faces)
    return estimator


def _train_held(estimator, data, epochs, initial_epoch, partial, validation_data, fit_args):
    if freeze_blocks(estimator.model_, estimator.freeze_blocks):
        estimator.model_.compile(**compile_kwargs(estimator))
    if validation_data is None:
        validation_data = data.validation
    recipe = recipe_callbacks(estimator, validation_data is not None)
    end = initial_epoch + epochs
    if estimator.checkpoint_dir is not None:
        current = fingerprint(estimator, data.n_faces, data.sha256())
        resumed = None if partial else load_checkpoint(estimator.checkpoint_dir, current, estimator.resume)
        if resumed is not None:
            _restore(estimator, resumed)
            if resumed["finished"] or resumed["epoch"] >= end:
                return
            if estimator.verbose:
                print(f"Resuming the fit in {estimator.checkpoint_dir} after epoch {resumed['epoch']} of {end}.")
            initial_epoch = resumed["epoch"]
        history = getattr(estimator, "history_", None) if (resumed is not None or partial) else None
        recipe.append(
            Checkpoint(estimator.checkpoint_dir, current, watched=list(recipe), resumed=resumed,
                       history=history, finish=not partial)
        )
    fit_args.setdefault("verbose", estimator.verbose)
    if fit_args["verbose"] == 1:
        recipe.append(EpochProgress(data.n_faces, end))
        fit_args["verbose"] = 0
    batches, own_callbacks, data_args = data.fit_inputs(estimator, initial_epoch, end)
    history = estimator.model_.fit(
        batches, epochs=end, initial_epoch=initial_epoch, validation_data=validation_data,
        callbacks=[*own_callbacks, *user_callbacks(estimator), *recipe], shuffle=False,
        **{**data_args, **fit_args},
    )
    if initial_epoch == 0 or not hasattr(estimator, "history_"):
        estimator.history_ = defaultdict(list)
    for key, values in history.history.items():
        estimator.history_[key] += values


def _restore(estimator, resumed):
    """Take a checkpoint's model, random-stream states and history."""
    estimator.model_ = resumed["model"]
    if "seed_states" in resumed:  # the uninterrupted fit's draws continue
        restore_seed_states(estimator.model_, resumed["seed_states"])
    else:  # an older checkpoint: new streams, derived from the seed and the epoch
        reseed_resumed(estimator.model_, estimator.random_state, resumed["epoch"])
    estimator.history_ = defaultdict(list, resumed["history"])


def array_data(estimator, X, y, sample_weight, options):
    """:class:`ArrayData` of faces ``X`` and labels ``y``, encoded, with ``class_weight`` in the sample weights.

    Faces of zero weight are left out (they could not change the fit);
    ``options`` holds the batch options (``batch_size``, ``shuffle``,
    ``validation_split``). ``estimator`` is initialized (its encoders
    fitted).

    Examples
    --------
    >>> import numpy as np
    >>> from skfer import FERClassifier
    >>> from skfer.estimator._training import array_data
    >>> X, y = np.zeros((4, 2304), np.float32), np.array([0, 0, 0, 1])
    >>> clf = FERClassifier(filters=(4,), kernel_sizes=3, dropout=0.1, dense_units=8, class_weight="balanced").initialize(X, y)
    >>> data = array_data(clf, X, y, None,
    ...                   {"batch_size": 2, "shuffle": True, "validation_split": 0.0})
    >>> [round(float(w), 2) for w in data.sample_weight]
    [0.67, 0.67, 0.67, 2.0]
    """
    batch_size, shuffle, split = (options[name] for name in BATCH_OPTIONS)
    if estimator.class_weight is not None:
        weights = compute_sample_weight(estimator.class_weight, y)
        sample_weight = weights if sample_weight is None else sample_weight * weights
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=np.float32)
        if not np.any(sample_weight):
            raise ValueError("sample_weight is 0 for every face: there is nothing to train on.")
        kept = sample_weight != 0
        X, y, sample_weight = X[kept], y[kept], sample_weight[kept]
    X, y = estimator.feature_encoder_.transform(X), estimator.target_encoder_.transform(y)
    return ArrayData(X, y, sample_weight, batch_size, seed_from(estimator.random_state), shuffle, split)


def keras_fit_args(options):
    """``options`` (routed ``fit__*`` ones among them) less the batch options, ``callbacks`` and ``validation_data``.

    What is left reaches ``keras.Model.fit``: the batch options shape the
    batches, :func:`~skfer.estimator._network.user_callbacks` makes the
    callbacks from the parameters, and the entry point encodes the
    validation data.

    Examples
    --------
    >>> from skfer.estimator._training import keras_fit_args
    >>> keras_fit_args({"batch_size": 32, "callbacks": [], "validation_data": None, "verbose": 0})
    {'verbose': 0}
    """
    return {name: value for name, value in options.items()
            if name not in (*BATCH_OPTIONS, "callbacks", "validation_data")}


def fit_arrays(estimator, X, y, sample_weight, validation_data, kwargs, *, epochs, initial_epoch, partial):
    """Train on checked faces ``X`` and labels ``y``: ``fit``'s, ``partial_fit``'s and a warm start's way in.

    The batch options (``batch_size``, ``shuffle``, ``validation_split``)
    come from the parameters, routed ``fit__*`` ones and ``kwargs``, in
    that order of precedence; the rest of ``kwargs`` reaches
    ``keras.Model.fit``. ``validation_data`` (or a routed
    ``fit__validation_data``) may hold labels in any form ``y`` takes.
    """
    options = {"batch_size": estimator.batch_size, "shuffle": estimator.shuffle,
               "validation_split": estimator.validation_split, **routed(estimator, "fit"), **kwargs}
    if validation_data is None:
        validation_data = options.get("validation_data")
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=np.float32)
        if sample_weight.shape != (len(X),):
            raise ValueError(
                f"sample_weight must have shape ({len(X)},), one weight per face; got {sample_weight.shape}."
            )
    data = array_data(estimator, X, y, sample_weight, options)
    if validation_data is not None:
        validation_data = encode_validation(estimator, validation_data)
    train(estimator, data, epochs=epochs, initial_epoch=initial_epoch, partial=partial,
          validation_data=validation_data, fit_args=keras_fit_args(options))


def encode_validation(estimator, validation_data):
    """Validation faces and labels (any label form ``y`` takes), checked and encoded like ``y``."""
    try:
        X_val, y_val = validation_data
    except (TypeError, ValueError):
        raise ValueError(
            "validation_data must be a pair (X_val, y_val); got "
            f"{type(validation_data).__name__}."
        ) from None
    X_val, _ = estimator._check_faces(X_val, reset=False)
    y_val = align_labels(y_val, estimator.classes_)
    unknown = np.setdiff1d(np.asarray(y_val), estimator.classes_)
    if unknown.size:
        raise ValueError(
            f"validation_data holds labels {unknown.tolist()} that the classifier's classes "
            f"{estimator.classes_.tolist()} lack."
        )
    return estimator.feature_encoder_.transform(X_val), estimator.target_encoder_.transform(y_val)


def warm_start(estimator, X, y):
    """Prepare a warm-started fit: the fitted weights in a network built from the current parameters; the checked data.

    The network is built again, so that changed augmentation, dropout or
    ``train_dtype`` take effect, with a fresh optimizer, and takes every
    layer's weights from the fitted network. If ``y`` holds other classes
    than ``classes_``, the new network is for them and its output layer
    starts untrained. Parameters that shape the weights cannot change.
    """
    y = align_labels(y, estimator.classes_)
    new = np.unique(np.asarray(y))
    previous = estimator.model_
    same_classes = set(new.tolist()) == set(estimator.classes_.tolist())
    if same_classes:
        X, y = estimator._check_faces(X, y, reset=False)
        estimator.model_ = build_network(estimator, estimator.n_classes_)
    else:
        warnings.warn(
            f"warm_start: y holds the classes {new.tolist()}, the fitted network "
            f"{estimator.classes_.tolist()}; the output layer is replaced by a new, untrained "
            "one for the new classes (the rest of the network keeps its weights).",
            UserWarning,
            stacklevel=4,
        )
        X, y = estimator._setup(X, y)
    try:
        transfer_body(previous, estimator.model_, with_output=same_classes)
    except ValueError as error:
        estimator.model_ = previous
        raise ValueError(
            f"warm_start: the current parameters build a network whose weights differ from the fitted "
            f"one's ({error}) Parameters that shape the weights (filters, kernel_sizes, dense_units, "
            "...) cannot change on a warm start; set warm_start=False to train a new network."
        ) from None
    return X, y
