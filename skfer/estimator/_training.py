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
from numbers import Integral

import keras
import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.utils.class_weight import compute_class_weight, compute_sample_weight

from .._files import FolderLock
from .._labels import align_labels
from .._progress import resolve_verbose
from ..inference._engine import CALIBRATION_FACES
from ._prediction import renew_predictor
from ..models._fine_tune import freeze_blocks, transfer_body
from ._batches import EpochBatches
from ._callbacks import EpochProgress, needs_validation, recipe_callbacks
from ._checkpoint import Checkpoint, aligned_history, data_sha256, fingerprint, load_checkpoint
from ._inputs import FIT_KEYWORDS, check_photometric_range
from ._network import build_network, compile_kwargs, resolved_augmentation, user_callbacks
from ._routing import routed
from ._seeding import reseed_resumed, restore_seed_states, seed_from

class ArrayData:
    """Encoded faces in memory, batched in an order drawn from the fit's seed and the epoch.

    Parameters
    ----------
    X, y : ndarray
        Encoded faces and targets.
    sample_weight : ndarray or None
        Weight of each face.
    batch_size : int
        Faces per step.
    seed : int or None
        The fit's seed (:func:`skfer.estimator._seeding.seed_from`).

    Examples
    --------
    >>> import numpy as np
    >>> from skfer.estimator._training import ArrayData
    >>> data = ArrayData(np.zeros((10, 2304)), np.arange(10) % 2, None, 4, 0)
    >>> data.n_faces, len(data.batches(0))
    (10, 3)
    """

    def __init__(self, X, y, sample_weight, batch_size, seed):
        self.X, self.y, self.sample_weight = X, y, sample_weight
        self.batch_size, self.seed = batch_size, seed
        self.n_faces = len(X)

    def sha256(self):
        """Hash of the faces and targets, for the checkpoint's fingerprint."""
        return data_sha256(self.X, self.y)

    def batches(self, first_epoch):
        """The :class:`EpochBatches` of a fit whose first epoch is ``first_epoch``."""
        return EpochBatches(self.X, self.y, self.sample_weight, self.batch_size, self.seed,
                            first_epoch=first_epoch)

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


def train(estimator, data, *, epochs, initial_epoch=0, partial=False, validation_data=None, verbose=None,
          schedule_epochs=None):
    """Train ``estimator.model_`` on ``data``: the one routine every entry point calls.

    With ``checkpoint_dir`` the folder is held by a :class:`~skfer._files.FolderLock`
    for the whole fit, a matching checkpoint is resumed (``resume``), and a
    :class:`~skfer.estimator._checkpoint.Checkpoint` saves every epoch.
    Progress is shown where ``verbose`` resolves to 1 (:func:`skfer._progress.resolve_verbose`).
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
        more fit arguments.
    epochs : int
        Epochs to train.
    initial_epoch : int, default=0
        Epochs trained before (``partial_fit``'s count).
    partial : bool, default=False
        A ``partial_fit`` step: never resumes, never marks the checkpoint finished.
    validation_data : tuple or keras.utils.PyDataset, default=None
        Encoded validation data, evaluated after every epoch.
    verbose : {"auto", 0, 1, 2}, default=None
        The fit's verbosity; None: ``estimator.verbose``.
    schedule_epochs : int, default=None
        Length of the learning-rate schedule; None: the fit's last epoch.

    Returns
    -------
    estimator : FERClassifier
        The trained estimator.

    Raises
    ------
    ValueError
        If a setting needs validation data (``early_stopping``, the plateau
        schedule) and there is none; the message names the setting.

    Examples
    --------
    >>> import numpy as np
    >>> from skfer import FERClassifier
    >>> from skfer.estimator._training import ArrayData, train
    >>> X, y = np.zeros((8, 2304), np.float32), np.arange(8) % 2
    >>> clf = FERClassifier(architecture__filters=(4,), architecture__dense_units=8, dropout=0.1).initialize(X, y)
    >>> len(train(clf, ArrayData(X, y, None, 4, 0), epochs=2).history_["loss"])
    2
    """
    needing = needs_validation(estimator)
    if needing and validation_data is None:
        raise ValueError(
            f"{' and '.join(needing)} {'need' if len(needing) > 1 else 'needs'} validation data, and "
            "this fit has none: pass validation_data."
        )
    augmentation = resolved_augmentation(estimator)
    photometric = getattr(augmentation, "photometric", 0)
    if photometric:  # on every path in, before any epoch (a dataset gives its first batches)
        check_photometric_range(photometric, data.faces())
    folder = estimator.checkpoint_dir
    end = initial_epoch + epochs
    with FolderLock(folder) if folder is not None else contextlib.nullcontext():
        _train_held(estimator, data, end, initial_epoch, partial, validation_data,
                    resolve_verbose(estimator.verbose if verbose is None else verbose),
                    schedule_epochs or end)
    estimator.history_ = defaultdict(list, aligned_history(estimator.history_))
    renew_predictor(estimator, data.faces)
    return estimator


def _train_held(estimator, data, end, initial_epoch, partial, validation_data, verbose, schedule_epochs):
    if freeze_blocks(estimator.model_, estimator.freeze_blocks):
        estimator.model_.compile(**compile_kwargs(estimator))
    recipe = recipe_callbacks(estimator, schedule_epochs)
    if estimator.checkpoint_dir is not None:
        current = fingerprint(estimator, data.n_faces, data.sha256(), epochs=schedule_epochs)
        resumed = None if partial else load_checkpoint(estimator.checkpoint_dir, current, estimator.resume)
        if resumed is not None:
            _restore(estimator, resumed)
            if resumed["finished"] or resumed["epoch"] >= end:
                return
            if verbose:
                print(f"Resuming the fit in {estimator.checkpoint_dir} after epoch {resumed['epoch']} of {end}.")
            initial_epoch = resumed["epoch"]
        history = getattr(estimator, "history_", None) if (resumed is not None or partial) else None
        recipe.append(
            Checkpoint(estimator.checkpoint_dir, current, watched=list(recipe), resumed=resumed,
                       history=history, finish=not partial)
        )
    if verbose == 1:
        recipe.append(EpochProgress(data.n_faces, end))
    batches, own_callbacks, data_args = data.fit_inputs(estimator, initial_epoch, end)
    history = estimator.model_.fit(
        batches, epochs=end, initial_epoch=initial_epoch, validation_data=validation_data,
        callbacks=[*own_callbacks, *user_callbacks(estimator), *recipe], shuffle=False,
        verbose=2 if verbose == 2 else 0, **data_args,
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


def array_data(estimator, X, y, sample_weight, batch_size, teacher_proba=None):
    """:class:`ArrayData` of faces ``X`` and labels ``y``, encoded, with ``class_weight`` in the sample weights.

    Faces of zero weight are left out (they could not change the fit).
    ``estimator`` is initialized (its encoders fitted). A checked
    ``teacher_proba`` follows each face's label in its target row.

    Examples
    --------
    >>> import numpy as np
    >>> from skfer import FERClassifier
    >>> from skfer.estimator._training import array_data
    >>> X, y = np.zeros((4, 2304), np.float32), np.array([0, 0, 0, 1])
    >>> clf = FERClassifier(architecture__filters=(4,), architecture__dense_units=8, dropout=0.1,
    ...                     class_weight="balanced").initialize(X, y)
    >>> data = array_data(clf, X, y, None, batch_size=2)
    >>> [round(float(w), 2) for w in data.sample_weight]
    [0.67, 0.67, 0.67, 2.0]
    """
    if estimator.class_weight is not None:
        weights = compute_sample_weight(estimator.class_weight, y)
        sample_weight = weights if sample_weight is None else sample_weight * weights
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=np.float32)
        if not np.any(sample_weight):
            raise ValueError("sample_weight is 0 for every face: there is nothing to train on.")
        kept = sample_weight != 0
        X, y, sample_weight = X[kept], y[kept], sample_weight[kept]
        teacher_proba = None if teacher_proba is None else teacher_proba[kept]
        if len(np.unique(y)) < 2:
            raise ValueError(
                f"sample_weight leaves faces of one class only ({np.unique(y).tolist()}) with a weight "
                "above 0: FERClassifier needs at least 2 classes to learn from."
            )
    X, y = estimator.feature_encoder_.transform(X), estimator.target_encoder_.transform(y)
    if teacher_proba is not None:
        y = np.column_stack([np.asarray(y).reshape(len(X)), teacher_proba]).astype(np.float32)
    return ArrayData(X, y, sample_weight, batch_size, seed_from(estimator.random_state))


def fit_options(estimator, kwargs, method):
    """The options of one fit: ``epochs``, ``batch_size``, ``verbose`` (keywords over routed ``fit__*`` over parameters) and ``validation_data``.

    Any other keyword is refused by name, as is ``epochs`` in ``partial_fit``
    (one epoch a call).

    Examples
    --------
    >>> from skfer import FERClassifier
    >>> from skfer.estimator._training import fit_options
    >>> fit_options(FERClassifier(epochs=40), {"epochs": 2}, "fit")["epochs"]
    2
    >>> fit_options(FERClassifier(), {"shuffle": False}, "fit")
    Traceback (most recent call last):
    ...
    ValueError: FERClassifier.fit takes no keyword 'shuffle'; it takes epochs, batch_size, verbose (and validation_data).
    """
    accepted = FIT_KEYWORDS if method == "fit" else (*(k for k in FIT_KEYWORDS if k != "epochs"), "validation_data")
    for name in kwargs:
        if name not in accepted:
            raise ValueError(
                f"FERClassifier.{method} takes no keyword {name!r}; it takes {', '.join(accepted)}"
                + (" (and validation_data)." if method == "fit" else ".")
            )
    needing = needs_validation(estimator)
    if method == "partial_fit" and needing:
        raise ValueError(
            f"partial_fit trains one epoch on the faces it is given, with no validation data: "
            f"{' and '.join(needing)} cannot act there. Use fit, or set early_stopping=False and "
            "another lr_schedule."
        )
    options = {name: getattr(estimator, name) for name in FIT_KEYWORDS}
    options.update(routed(estimator, "fit"))
    options.update(kwargs)
    for name in ("epochs", "batch_size"):
        if not isinstance(options[name], Integral) or isinstance(options[name], bool) or options[name] < 1:
            raise ValueError(f"{method}'s {name} must be a positive integer; got {options[name]!r}.")
    return options


def fit_arrays(estimator, X, y, sample_weight, validation_data, options, *, initial_epoch, partial,
               teacher_proba=None):
    """Train on checked faces ``X`` and labels ``y``: ``fit``'s, ``partial_fit``'s and a warm start's way in.

    ``teacher_proba`` (``fit``'s, checked by
    :func:`~skfer.estimator._inputs.check_teacher_proba`) is distilled along
    with the labels; faces held out for validation are scored on their
    labels alone.

    ``options`` come from :func:`fit_options`. Without ``validation_data``
    (nor a routed ``fit__validation_data``), a fit whose settings need
    validation data holds out a stratified ``validation_fraction`` of the
    faces. ``validation_data`` may hold labels in any form ``y`` takes.
    """
    if validation_data is None:
        validation_data = options.get("validation_data")
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=np.float32)
        if sample_weight.shape != (len(X),):
            raise ValueError(
                f"sample_weight must have shape ({len(X)},), one weight per face; got {sample_weight.shape}."
            )
    if validation_data is None and needs_validation(estimator) and not partial:
        X, y, sample_weight, teacher_proba, validation_data = _held_out(estimator, X, y, sample_weight, teacher_proba)
    data = array_data(estimator, X, y, sample_weight, options["batch_size"], teacher_proba)
    if validation_data is not None:
        validation_data = encode_validation(estimator, validation_data)
    train(estimator, data, epochs=1 if partial else options["epochs"], initial_epoch=initial_epoch,
          partial=partial, validation_data=validation_data, verbose=options["verbose"],
          schedule_epochs=estimator.epochs if partial else None)


def _held_out(estimator, X, y, sample_weight, teacher_proba):
    """Split off a stratified ``validation_fraction`` of the faces: the training rest and ``(X_val, y_val)``."""
    optional = [a for a in (sample_weight, teacher_proba) if a is not None]
    arrays = [X, y, *optional]
    try:
        parts = train_test_split(*arrays, test_size=estimator.validation_fraction, stratify=y,
                                 random_state=seed_from(estimator.random_state))
    except ValueError as error:
        raise ValueError(
            f"{' and '.join(needs_validation(estimator))} hold out validation_fraction="
            f"{estimator.validation_fraction} of the training faces, stratified by class, and "
            f"these {len(y)} faces cannot be split so ({error}). Pass validation_data, or give "
            "more faces of each class."
        ) from None
    rest = iter(parts[4::2])
    sample_weight, teacher_proba = (None if a is None else next(rest) for a in (sample_weight, teacher_proba))
    return parts[0], parts[2], sample_weight, teacher_proba, (parts[1], parts[3])


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
    layer's weights from the fitted network. ``classes_`` become the labels
    ``y`` holds: emotion names for the emotions of a network fitted on
    FER2013's integers keep its output layer (each unit moved to its name's
    place); ``y`` with a subset of them keeps those classes' units. If ``y``
    holds classes the network does not know, the new network is for them and
    its output layer starts untrained. Parameters that shape the weights
    cannot change.
    """
    previous, previous_classes = estimator.model_, estimator.classes_
    given = np.unique(np.asarray(y))
    was = previous_classes.tolist()
    known = set(np.asarray(align_labels(given, previous_classes)).tolist()) <= set(was)
    if not known:
        warnings.warn(
            f"warm_start: y holds the classes {given.tolist()}, the fitted network "
            f"{was}; the output layer is replaced by a new, untrained "
            "one for the new classes (the rest of the network keeps its weights).",
            UserWarning,
            stacklevel=4,
        )
    fitted = {name: value for name, value in vars(estimator).items() if name.endswith("_")}
    X, y = estimator._setup(X, y)  # classes_ in the labels y holds: names stay names
    units = None
    if known:  # emotions the network knows, perhaps written otherwise: each class keeps its unit
        units = [was.index(c) for c in align_labels(estimator.classes_, previous_classes).tolist()]
    try:
        transfer_body(previous, estimator.model_, output_units=units)
    except ValueError as error:
        vars(estimator).update(fitted)  # the fitted classifier as it was
        raise ValueError(
            f"warm_start: the current parameters build a network whose weights differ from the fitted "
            f"one's ({error}) Parameters that shape the weights (architecture, architecture__*, "
            "augmentation__crop_size) cannot change on a warm start; set warm_start=False to train a "
            "new network."
        ) from None
    return X, y
