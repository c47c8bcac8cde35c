"""FERClassifier: skfer's networks as a scikit-learn classifier, through scikeras.

The estimator holds the parameters and the scikit-learn API; the training
recipe's callbacks are in :mod:`skfer.estimator._callbacks`, checkpoints in
:mod:`skfer.estimator._checkpoint`, seeding in :mod:`skfer.estimator._seeding`, fine-tuning
helpers in :mod:`skfer.models._fine_tune` and the prediction graph in
:mod:`skfer.models._inference`.
"""

import copy
import inspect
import os
import warnings
from collections import defaultdict
from numbers import Integral, Real

import keras
import numpy as np
from scikeras.wrappers import KerasClassifier
from scipy.sparse import issparse
from sklearn.utils import ClassifierTags
from sklearn.utils._param_validation import Interval, StrOptions, validate_parameter_constraints
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from ._batches import EpochBatches
from ._callbacks import SCHEDULES, recipe_callbacks
from ._checkpoint import Checkpoint, aligned_history, fingerprint, load_checkpoint
from .._constants import IMAGE_SIZE, N_PIXELS
from .._files import FolderLock
from .._labels import align_labels
from .._progress import EpochProgress
from ._seeding import reseed_resumed, restore_seed_states, seed_from, seeded
from ..models._tta import TTA, tta_views
from ..models import (
    ARCHITECTURES,
    FaceCrop,
    RandomErasing,
    SmoothedSparseCrossentropy,
    augmentation_layers,
)
from ..models._fine_tune import freeze_blocks, transfer_body
from ..models._seeds import LayerSeeds
from ..models._inference import (
    DTYPES,
    PREDICT_DTYPES,
    PREDICT_BATCH,
    inference_model,
    predict_in_batches,
    resolve_dtype,
)

#: Parameters passed to the architecture's builder when set.
_NETWORK_PARAMS = ("filters", "kernel_sizes", "dropout", "dense_units", "dense_dropout", "activation")

def _faces_2d(X, n_features_in=N_PIXELS):
    """Reshape (n, 48, 48) and (n, 48, 48, 1) faces to (n, 2304); refuse what is not faces."""
    if X is None:
        return None
    if issparse(X):
        raise TypeError("FERClassifier does not support sparse input; pass dense arrays of faces.")
    X = np.asarray(X)
    if X.dtype.kind in "OUS":
        try:
            X = X.astype(np.float32)
        except (TypeError, ValueError):
            raise ValueError(
                "FERClassifier takes numeric pixel arrays; X holds strings. Put "
                "PixelStringTransformer (and PixelNormalizer) before it in a pipeline."
            ) from None
    accepted = (
        f"faces of shape (n, {N_PIXELS}), (n, {IMAGE_SIZE}, {IMAGE_SIZE}) or "
        f"(n, {IMAGE_SIZE}, {IMAGE_SIZE}, 1)"
    )
    if X.ndim > 2:
        if X.shape[1:] not in ((IMAGE_SIZE, IMAGE_SIZE), (IMAGE_SIZE, IMAGE_SIZE, 1)):
            raise ValueError(f"FERClassifier takes {accepted}; got X of shape {X.shape}.")
        X = X.reshape(X.shape[0], N_PIXELS)
    elif X.ndim == 2 and X.shape[1] != N_PIXELS:
        raise ValueError(
            f"FERClassifier takes {accepted}, i.e. {IMAGE_SIZE}x{IMAGE_SIZE} grayscale faces; "
            f"got X of shape {X.shape}."
        )
    return X


def _check_rates(value, name):
    """Dropout rates: one float or a sequence, each in [0, 1)."""
    rates = value if isinstance(value, (list, tuple)) else [value]
    for rate in rates:
        if not isinstance(rate, Real) or isinstance(rate, bool) or not 0 <= rate < 1:
            raise ValueError(
                f"The '{name}' parameter of FERClassifier must hold rates in [0, 1); got {value!r}."
            )


class FERClassifier(KerasClassifier):
    """Deep CNN for facial emotion recognition on 48x48 grayscale faces.

    A scikit-learn classifier (built on scikeras' ``KerasClassifier``) around
    the FER2013 seed notebook's DCNN: three conv blocks of two Conv2D ->
    BatchNorm -> ELU layers with 32, 64 and 128 filters (5x5, 3x3, 3x3), each
    block followed by MaxPool and Dropout (0.4, 0.4, 0.5), then Dense 128 ->
    BatchNorm -> ELU -> Dropout 0.6 and a softmax. Every architecture knob is
    a constructor parameter, so ``GridSearchCV`` can sweep it. The defaults
    are the seed's recipe: Nadam with learning rate 1e-3, batch 32, up to 100
    epochs, on-the-fly augmentation.

    ``X`` holds faces scaled like the training data (e.g. by
    :class:`PixelNormalizer`), of shape (n, 2304), (n, 48, 48) or
    (n, 48, 48, 1); ``n_features_in_`` is always 2304. ``y`` holds integer
    labels or emotion names; ``classes_`` are the sorted distinct labels.
    When the classes are FER2013's emotions, integer labels 0-6 and emotion
    names are interchangeable in ``score``, ``partial_fit`` and warm-started
    ``fit``.

    Parameters
    ----------
    architecture : {"dcnn", "vgg", "resnet"}, default="dcnn"
        The network (:data:`skfer.models.ARCHITECTURES`): the seed
        notebook's DCNN (:func:`~skfer.models.build_dcnn`), a VGG-style
        network of four stages 64-128-256-512 (:func:`~skfer.models.build_vgg`)
        or a CIFAR-style ResNet (:func:`~skfer.models.build_resnet`). The
        parameters below left at None take the architecture's defaults.
    filters : sequence of int, default=None
        Filters of the convolutions in each conv block (DCNN: (32, 64, 128)).
    kernel_sizes : int or sequence of int, default=None
        Kernel side per conv block (DCNN only: (5, 3, 3)).
    dropout : float or sequence of float, default=None
        Dropout after each conv block; one float sets every block's rate
        (DCNN: (0.4, 0.4, 0.5)).
    dense_units : int, default=None
        Units of the hidden dense layer (DCNN only: 128).
    dense_dropout : float, default=None
        Dropout before the output layer (DCNN: 0.6).
    activation : str, default=None
        Activation of the hidden layers (DCNN: "elu", VGG and ResNet: "relu").
    augment : bool, default=True
        Whether to augment faces during training with the ranges below
        (random flips, rotations, shifts, shears and zooms, drawn as one
        affine transform per face by a layer inside the model that is
        inactive at inference; see :class:`skfer.models.RandomAffine`).
    rotation : float, default=15.0
        Largest rotation in degrees.
    shift : float, default=0.15
        Largest width and height shift, as a fraction of the side.
    shear : float, default=0.15
        Largest shear angle in degrees (the seed's ``ImageDataGenerator``).
    zoom : float, default=0.15
        Largest zoom in or out, as a fraction of the side.
    horizontal_flip : bool, default=True
        Whether to mirror faces at random.
    crop_size : int, default=None
        If set, the network sees ``crop_size`` x ``crop_size`` windows of
        each face: drawn at random positions in training (after the affine
        augmentation), the central one at inference. ``n_features_in_``
        stays 2304. Recipes above 72% on FER2013 crop 40 or 44 of 48 pixels.
    erasing : float, default=0.0
        Probability that a training face gets a random rectangle (2-33% of
        its area) replaced by noise, after the other augmentation (random
        erasing; :class:`skfer.models.RandomErasing`). Like ``crop_size`` it
        acts whether or not ``augment`` is set, and never at inference.
    label_smoothing : float, default=0.0
        Probability mass of each training label spread evenly over all
        classes (:class:`skfer.models.SmoothedSparseCrossentropy`); used when
        ``loss`` is the default.
    early_stopping : bool, default=True
        With validation data, stop when validation accuracy has not improved
        for ``patience`` epochs and restore the best epoch's weights.
    patience : int, default=11
        Epochs without improvement before early stopping.
    lr_schedule : {"plateau", "cosine", "onecycle"} or None, default="plateau"
        How the learning rate changes. ``"plateau"`` (the seed's): with
        validation data, multiply it by ``lr_factor`` when the monitored
        validation metric has not improved for ``lr_patience`` epochs.
        ``"cosine"``: linear warm-up over ``warmup_epochs``, then half a
        cosine from ``learning_rate`` towards 0 at ``epochs``.
        ``"onecycle"``: rise from ``learning_rate / 25`` over the first 30%
        of ``epochs``, then a cosine down (see
        :class:`skfer.estimator._callbacks.EpochSchedule`). None keeps it constant.
    lr_factor : float, default=0.5
        Factor of each plateau reduction.
    lr_patience : int, default=7
        Epochs without improvement before a plateau reduction.
    min_lr : float, default=1e-7
        Lower bound of the learning rate under the plateau schedule.
    warmup_epochs : int, default=0
        Warm-up epochs of the cosine schedule.
    optimizer : str or keras.optimizers.Optimizer class, default="nadam"
        Optimizer, by Keras name ("adam", "adamw", "nadam", "sgd", ...), or
        ``"sgd_nesterov"``: SGD with Nesterov momentum 0.9 (a routed
        ``optimizer__momentum`` changes the momentum).
    learning_rate : float, default=1e-3
        Learning rate of an optimizer given by name or class (the peak rate
        of the cosine and one-cycle schedules); a routed
        ``optimizer__learning_rate`` takes precedence.
    weight_decay : float, default=None
        Decoupled weight decay of the optimizer: every step multiplies each
        weight by ``1 - learning_rate * weight_decay`` (for plain SGD the
        same as an L2 penalty of ``weight_decay / 2``).
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss, as in scikit-learn;
        ``"balanced"`` weighs each class inversely to its frequency (FER2013
        Training has 436 Disgust faces and 7,215 Happy ones).
    loss : str, default="sparse_categorical_crossentropy"
        Keras loss.
    metrics : str or list, default="accuracy"
        Keras metrics recorded per epoch in ``history_``.
    batch_size : int, default=32
        Faces per gradient step (and per predict batch unless
        ``predict__batch_size`` is set).
    epochs : int, default=100
        Number of passes over the training data.
    verbose : int, default=0
        0 silent; 1 progress within every epoch (faces done, faces/s, time
        left: a bar on a terminal, a line every 10 s in a log); 2 Keras' one
        line per epoch.
    callbacks : list of keras.callbacks.Callback classes or instances, default=None
        Keras callbacks. Pass classes with routed ``callbacks__*`` parameters
        so each clone (e.g. in ``GridSearchCV``) gets its own instances.
    validation_split : float, default=0.0
        Fraction of the training data held out for validation.
    shuffle : bool, default=True
        Whether to shuffle the training data every epoch.
    warm_start : bool, default=False
        Whether ``fit`` starts from the fitted network's weights (e.g. the
        pretrained model's) instead of new ones; the model is compiled again
        with the current optimizer parameters. If ``y`` holds other labels
        than ``classes_``, the output layer is replaced by a new one for
        those labels and the rest of the network keeps its weights.
    freeze_blocks : int, default=0
        Number of conv blocks, from the input, whose convolution and
        BatchNorm layers are frozen (not trained) during ``fit``: for
        fine-tuning a pretrained network on few faces.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialization, dropout, augmentation and shuffling, so
        that two fits give identical predictions.
    checkpoint_dir : str or path-like, default=None
        If set, the model, optimizer state, history and callback counters are
        saved there after every epoch, with a fingerprint of the fit: the
        parameters that shape what it learns, the classes, and the training
        data's shape and content hash. See ``resume``.
    resume : bool or "if_matching", default=False
        What ``fit`` does with a checkpoint already in ``checkpoint_dir``.
        False: start a new fit (a checkpoint of a different fit is replaced,
        with a warning). True: continue the checkpointed fit from its last
        finished epoch (a finished one is loaded without training), and
        raise an error naming what differs if the checkpoint was written by
        a different fit. ``"if_matching"``: continue a matching checkpoint,
        otherwise warn and start a new fit. A checkpoint is never used for a
        fit it does not match, so clones in ``cross_validate`` or
        ``GridSearchCV`` sharing a folder stay independent. The resumed
        epochs draw shuffling, dropout and augmentation from seeds derived
        from ``random_state`` and the checkpoint's epoch (Keras saves no
        random-generator state): resuming the same checkpoint gives the same
        fit, which differs from an uninterrupted one.
    train_dtype : {"float32", "bfloat16"}, default="float32"
        Compute dtype of training. ``"bfloat16"`` computes every layer but
        the softmax output in bfloat16 with float32 weights (Keras'
        ``mixed_bfloat16`` policy). On CPUs with AVX512-BF16 its
        convolutions run about twice as fast, but the rest of a training
        step does not, so epochs were 1.0-1.2x faster on 2 cores
        (``benchmarks/results/speed.md``); its effect on accuracy after a
        full training has not been measured.
    predict_dtype : {"float32", "bfloat16", "auto"}, default="float32"
        Compute dtype of prediction. ``predict`` and ``predict_proba`` run a
        copy of the network with BatchNorm folded into the convolutions.
        ``"bfloat16"`` makes that copy about twice as fast on CPUs with
        AVX512-BF16 or AMX (and GPUs); its probabilities differ from
        float32's in the second or third decimal: on FER2013 PublicTest it
        changed 33 of the default pretrained model's 3,589 predictions and
        its accuracy from 68.82% to 68.93%. CPUs without native bfloat16 run
        it slower. ``"auto"`` (what :func:`~skfer.pretrained.load_pretrained`
        sets) is bfloat16 on CPUs with native bfloat16 and float32 elsewhere.
    tta : {"flip", "ten_crop"} or None, default=None
        Test-time augmentation of ``predict`` and ``predict_proba``: average
        the probabilities over each face and its mirror image (``"flip"``),
        or over five crops (centre and corners, shifted by the crop margin,
        or 2 pixels without ``crop_size``) and their mirrors
        (``"ten_crop"``). None predicts each face once.
    **kwargs
        Other scikeras parameters, including routed ones such as
        ``optimizer__momentum``, ``fit__validation_data`` or
        ``predict__batch_size``.

    Attributes
    ----------
    model_ : keras.Model
        The fitted Keras model.
    classes_ : ndarray of shape (n_classes,)
        Class labels known to the classifier.
    n_classes_ : int
        Number of classes.
    n_features_in_ : int
        Number of features per face (2304).
    history_ : dict of str to list
        Per-epoch metrics (``loss``, ``accuracy``, and ``val_*`` with
        validation data; ``learning_rate`` under a schedule) and each
        epoch's wall time in seconds, validation included (``epoch_seconds``).
    predictor_ : keras.Model
        The prediction graph over ``model_``'s own variables (BatchNorm
        folded on the fly, dropout and augmentation left out; see
        :func:`skfer.models._inference.inference_model`), so it always
        predicts with ``model_``'s current weights.

    See Also
    --------
    skfer.models.build_dcnn : The Keras builder behind this classifier.

    Examples
    --------
    >>> import numpy as np
    >>> from skfer import FERClassifier
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.random((20, 2304), dtype=np.float32), np.arange(20) % 2
    >>> clf = FERClassifier(filters=(4,), kernel_sizes=3, dropout=0.1, dense_units=8,
    ...                     epochs=1, random_state=0).fit(X, y)
    >>> clf.predict(X[:3]).shape, clf.n_features_in_
    ((3,), 2304)
    """

    _parameter_constraints = {
        "architecture": [StrOptions(set(ARCHITECTURES))],
        "filters": ["array-like", None],
        "kernel_sizes": [Interval(Integral, 1, None, closed="left"), "array-like", None],
        "dropout": [Interval(Real, 0, 1, closed="left"), "array-like", None],
        "dense_units": [Interval(Integral, 1, None, closed="left"), None],
        "dense_dropout": [Interval(Real, 0, 1, closed="left"), None],
        "activation": [str, callable, None],
        "augment": ["boolean"],
        "rotation": [Interval(Real, 0, 180, closed="both")],
        "shift": [Interval(Real, 0, 1, closed="left")],
        "shear": [Interval(Real, 0, 90, closed="left")],
        "zoom": [Interval(Real, 0, 1, closed="left")],
        "horizontal_flip": ["boolean"],
        "crop_size": [Interval(Integral, 8, IMAGE_SIZE, closed="both"), None],
        "erasing": [Interval(Real, 0, 1, closed="both")],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
        "early_stopping": ["boolean"],
        "patience": [Interval(Integral, 0, None, closed="left")],
        "lr_schedule": [StrOptions(set(SCHEDULES)), None],
        "lr_factor": [Interval(Real, 0, 1, closed="neither")],
        "lr_patience": [Interval(Integral, 0, None, closed="left")],
        "min_lr": [Interval(Real, 0, None, closed="left")],
        "warmup_epochs": [Interval(Integral, 0, None, closed="left")],
        "optimizer": [str, type, keras.optimizers.Optimizer],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left"), None],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "verbose": [Interval(Integral, 0, 2, closed="both"), "boolean"],
        "validation_split": [Interval(Real, 0, 1, closed="left")],
        "shuffle": ["boolean"],
        "warm_start": ["boolean"],
        "freeze_blocks": [Interval(Integral, 0, None, closed="left")],
        "random_state": ["random_state"],
        "checkpoint_dir": [str, os.PathLike, None],
        "resume": ["boolean", StrOptions({"if_matching"})],
        "train_dtype": [StrOptions(set(DTYPES))],
        "predict_dtype": [StrOptions(set(PREDICT_DTYPES))],
        "tta": [StrOptions(set(TTA)), None],
    }

    def __init__(
        self,
        *,
        architecture="dcnn",
        filters=None,
        kernel_sizes=None,
        dropout=None,
        dense_units=None,
        dense_dropout=None,
        activation=None,
        augment=True,
        rotation=15.0,
        shift=0.15,
        shear=0.15,
        zoom=0.15,
        horizontal_flip=True,
        crop_size=None,
        erasing=0.0,
        label_smoothing=0.0,
        early_stopping=True,
        patience=11,
        lr_schedule="plateau",
        lr_factor=0.5,
        lr_patience=7,
        min_lr=1e-7,
        warmup_epochs=0,
        optimizer="nadam",
        learning_rate=1e-3,
        weight_decay=None,
        class_weight=None,
        loss="sparse_categorical_crossentropy",
        metrics="accuracy",
        batch_size=32,
        epochs=100,
        verbose=0,
        callbacks=None,
        validation_split=0.0,
        shuffle=True,
        warm_start=False,
        freeze_blocks=0,
        random_state=None,
        checkpoint_dir=None,
        resume=False,
        train_dtype="float32",
        predict_dtype="float32",
        tta=None,
        **kwargs,
    ):
        super().__init__(
            optimizer=optimizer,
            loss=loss,
            metrics=metrics,
            batch_size=batch_size,
            epochs=epochs,
            verbose=verbose,
            callbacks=callbacks,
            validation_split=validation_split,
            shuffle=shuffle,
            warm_start=warm_start,
            random_state=random_state,
            class_weight=class_weight,
            **kwargs,
        )
        self.architecture = architecture
        self.filters = filters
        self.kernel_sizes = kernel_sizes
        self.dropout = dropout
        self.dense_units = dense_units
        self.dense_dropout = dense_dropout
        self.activation = activation
        self.augment = augment
        self.rotation = rotation
        self.shift = shift
        self.shear = shear
        self.zoom = zoom
        self.horizontal_flip = horizontal_flip
        self.crop_size = crop_size
        self.erasing = erasing
        self.label_smoothing = label_smoothing
        self.early_stopping = early_stopping
        self.patience = patience
        self.lr_schedule = lr_schedule
        self.lr_factor = lr_factor
        self.lr_patience = lr_patience
        self.min_lr = min_lr
        self.warmup_epochs = warmup_epochs
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.freeze_blocks = freeze_blocks
        self.checkpoint_dir = checkpoint_dir
        self.resume = resume
        self.train_dtype = train_dtype
        self.predict_dtype = predict_dtype
        self.tta = tta

    # -- scikeras extension points -------------------------------------------------
    #
    # Public ones: ``_keras_build_fn`` (the build function; scikeras documents
    # overriding it in subclasses), the target encoder (left as scikeras'),
    # routed ``optimizer__*``/``callbacks__*``/``predict__*`` parameters, and
    # Keras callbacks. Private scikeras names are overridden only here, each
    # for one reason:
    # - ``_random_state``: scikeras seeds through a TensorFlow-only context that
    #   leaves op determinism on (unseeded fits then fail); skfer seeds every
    #   backend itself (skfer.estimator._seeding.seeded).
    # - ``_get_compile_kwargs``: the ``sgd_nesterov`` name, ``learning_rate``,
    #   ``weight_decay`` and the smoothed loss reach the compiled optimizer.
    # - ``_validate_data``: faces of shape (n, 48, 48[, 1]) and a face-shape error.
    # - ``_initialize``: derive ``predictor_`` whenever a model is built.
    # - ``_fit_keras_model`` and ``_fit_callbacks``: skfer's own epoch loop
    #   (``_train_epochs``: seeded batch order, the recipe, checkpoint and progress
    #   callbacks made fresh per fit, resuming a checkpoint) where the encoded
    #   data exist; ``_fit_stream`` (behind ``fit_dataset``) reads the user's
    #   callbacks from ``_fit_callbacks`` too.
    # - ``_initialize_callbacks``: a warm start rebuilds the user's callbacks.
    @property
    def _random_state(self):
        return None

    @_random_state.setter
    def _random_state(self, value):
        pass

    def _keras_build_fn(self, compile_kwargs, meta):
        seed = seed_from(self.random_state)
        # Each augmentation layer draws from a stream of its own: equal seeds
        # would give two layers the same random numbers.
        seeds = LayerSeeds(None if seed is None else f"augmentation {seed}")
        augmentation = (
            augmentation_layers(
                rotation=self.rotation,
                shift=self.shift,
                shear=self.shear,
                zoom=self.zoom,
                horizontal_flip=self.horizontal_flip,
                seed=seeds.next(),
            )
            if self.augment
            else []
        )
        if self.crop_size is not None:
            augmentation = [*augmentation, FaceCrop(self.crop_size, seed=seeds.next(), name="crop")]
        if self.erasing:
            augmentation = [*augmentation, RandomErasing(self.erasing, seed=seeds.next(), name="erasing")]
        model = ARCHITECTURES[self.architecture](
            meta["n_classes_"],
            **self._network_params(),
            augmentation=augmentation,
            dtype=DTYPES[self.train_dtype],
            seed=seed,
        )
        model.compile(**compile_kwargs)
        return model

    def _get_compile_kwargs(self):
        params = self.get_params()
        if self.optimizer == "sgd_nesterov":
            # scikeras resolves optimizer names through Keras, which has no
            # such name: resolve it on a shallow copy, so routed
            # ``optimizer__*`` parameters still reach the SGD instance.
            resolved = copy.copy(self)
            resolved.optimizer = keras.optimizers.SGD
            resolved.optimizer__nesterov = True
            resolved.optimizer__momentum = params.get("optimizer__momentum", 0.9)
            kwargs = KerasClassifier._get_compile_kwargs(resolved)
        else:
            kwargs = super()._get_compile_kwargs()
        optimizer = kwargs["optimizer"]
        if isinstance(self.optimizer, (str, type)) and "optimizer__learning_rate" not in params:
            optimizer.learning_rate = self.learning_rate
        if self.weight_decay is not None:
            optimizer.weight_decay = self.weight_decay
        if self.label_smoothing and self.loss == "sparse_categorical_crossentropy":
            kwargs["loss"] = SmoothedSparseCrossentropy(self.label_smoothing)
        return kwargs

    def _validate_data(self, X=None, y=None, reset=False, y_numeric=False):
        if reset and y is not None:
            check_classification_targets(y)
            if len(np.unique(np.asarray(y))) < 2:
                raise ValueError("FERClassifier needs at least 2 classes in y; got 1 class.")
        return super()._validate_data(_faces_2d(X), y, reset=reset, y_numeric=y_numeric)

    def _initialize(self, X, y=None):
        X, y = super()._initialize(X, y)
        self._make_predictor()
        return X, y

    # -- training ------------------------------------------------------------------

    def _network_params(self):
        """The architecture parameters set (not None), checked against the builder's."""
        given = {name: getattr(self, name) for name in _NETWORK_PARAMS if getattr(self, name) is not None}
        builder = ARCHITECTURES[self.architecture]
        unknown = sorted(set(given) - set(inspect.signature(builder).parameters))
        if unknown:
            raise ValueError(
                f"architecture={self.architecture!r} has no parameter {', '.join(unknown)}; "
                f"leave it None (it applies to the DCNN)."
            )
        return given

    def _check_params(self):
        self._validate_params()
        if self.dropout is not None:
            _check_rates(self.dropout, "dropout")
        self._network_params()

    def _encode_validation(self, validation_data):
        try:
            X_val, y_val = validation_data
        except (TypeError, ValueError):
            raise ValueError(
                "validation_data must be a pair (X_val, y_val); got "
                f"{type(validation_data).__name__}."
            ) from None
        X_val, y_val = self._validate_data(X_val, align_labels(y_val, self.classes_))
        return self.feature_encoder_.transform(X_val), self.target_encoder_.transform(y_val)

    def _fit_stream(self, data, validation_data=None):
        """Train the built ``model_`` on batches ``data`` yields (see :func:`skfer.datasets.fit_dataset`).

        The user's callbacks come first, as scikeras made them, then the recipe's.
        """
        callbacks = [*self._fit_callbacks, *recipe_callbacks(self, validation_data is not None)]
        history = self.model_.fit(
            data, epochs=self.epochs, validation_data=validation_data, callbacks=callbacks, verbose=self.verbose
        )
        self.history_ = defaultdict(list, history.history)
        return self

    def _fit_keras_model(self, X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs):
        if self.checkpoint_dir is None:
            return self._fit_held(X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs)
        with FolderLock(self.checkpoint_dir):  # a second fit on the folder is refused meanwhile
            return self._fit_held(X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs)

    def _fit_held(self, X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs):
        partial = kwargs.pop("_partial", False)
        if freeze_blocks(self.model_, self.freeze_blocks):
            self.model_.compile(**self._get_compile_kwargs())
        # Validation data given to fit or routed by set_params(fit__validation_data=...): either
        # way its labels are encoded like y (emotion names, integers).
        validation_data = kwargs.pop("validation_data", None)
        if validation_data is None:
            validation_data = self.get_params().get("fit__validation_data")
        if validation_data is not None:
            kwargs["validation_data"] = self._encode_validation(validation_data)
        split = kwargs.get("validation_split", self.validation_split)
        recipe = recipe_callbacks(self, validation_data is not None or split > 0)
        if self.checkpoint_dir is not None:
            current = fingerprint(self, X, y)
            resumed = None if partial else load_checkpoint(self.checkpoint_dir, current, self.resume)
            if resumed is not None:
                self.model_ = resumed["model"]
                if "seed_states" in resumed:  # the uninterrupted fit's draws continue
                    restore_seed_states(self.model_, resumed["seed_states"])
                else:  # an older checkpoint: new streams, derived from the seed and the epoch
                    reseed_resumed(self.model_, self.random_state, resumed["epoch"])
                self._make_predictor()
                self.history_ = defaultdict(list, resumed["history"])
                end = initial_epoch + epochs
                if resumed["finished"] or resumed["epoch"] >= end:
                    return
                if self.verbose:
                    print(f"Resuming the fit in {self.checkpoint_dir} after epoch {resumed['epoch']} of {end}.")
                initial_epoch, epochs, warm_start = resumed["epoch"], end - resumed["epoch"], True
            history = getattr(self, "history_", None) if (resumed is not None or partial) else None
            recipe.append(
                Checkpoint(
                    self.checkpoint_dir, current, watched=list(recipe), resumed=resumed,
                    history=history, finish=not partial,
                )
            )
        if self.verbose == 1:
            n_fit = len(X) - int(len(X) * split)
            recipe.append(EpochProgress(n_fit, initial_epoch + epochs))
            kwargs["verbose"] = 0
        self._train_epochs(X, y, sample_weight, warm_start, epochs, initial_epoch,
                           [*self._fit_callbacks, *recipe], kwargs)
        self.history_ = defaultdict(list, aligned_history(self.history_))

    def _train_epochs(self, X, y, sample_weight, warm_start, epochs, initial_epoch, callbacks, kwargs):
        """Run ``keras.Model.fit`` over :class:`EpochBatches`, whose order comes from the seed and epoch.

        Routed ``fit__*`` parameters and ``kwargs`` reach ``keras.Model.fit``;
        ``batch_size``, ``shuffle`` and ``validation_split`` shape the batches
        (the split holds out the last faces, as Keras does).
        """
        args = {"batch_size": self.batch_size, "shuffle": self.shuffle, "verbose": self.verbose,
                "validation_split": self.validation_split}
        args.update({k[len("fit__"):]: v for k, v in self.get_params().items() if k.startswith("fit__")})
        args.update(kwargs)
        batch_size = args.pop("batch_size")
        batch_size = len(X) if batch_size == -1 else batch_size
        shuffle, split = args.pop("shuffle"), args.pop("validation_split")
        if split and args.get("validation_data") is None:
            n_val = int(len(X) * split)
            held = slice(len(X) - n_val, None)
            weights = None if sample_weight is None else sample_weight[held]
            args["validation_data"] = (X[held], y[held]) if weights is None else (X[held], y[held], weights)
            X, y = X[: len(X) - n_val], y[: len(y) - n_val]
            sample_weight = None if sample_weight is None else sample_weight[: len(X)]
        if args.get("validation_batch_size") == -1:
            args["validation_batch_size"] = len(args["validation_data"][0])
        batches = EpochBatches(X, y, sample_weight, batch_size, seed_from(self.random_state),
                               first_epoch=initial_epoch, shuffle=bool(shuffle))
        history = self.model_.fit(batches, epochs=initial_epoch + epochs, initial_epoch=initial_epoch,
                                  callbacks=[batches.callback(), *callbacks], shuffle=False, **args)
        if not warm_start or not hasattr(self, "history_") or initial_epoch == 0:
            self.history_ = defaultdict(list)
        for key, values in history.history.items():
            self.history_[key] += values

    def fit(self, X, y, sample_weight=None, *, validation_data=None, **kwargs):
        """Build the network and train it on faces ``X`` with labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, 2304), (n_samples, 48, 48) or (n_samples, 48, 48, 1)
            Normalized faces.
        y : array-like of shape (n_samples,)
            Integer labels or emotion names.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each face in the loss.
        validation_data : tuple (X_val, y_val), default=None
            Faces and labels, prepared like ``X`` and ``y``, evaluated after
            every epoch; they drive early stopping and the plateau schedule.
            In a pipeline use :class:`FERPipeline`, which passes ``X_val``
            through the preprocessing steps first.
        **kwargs
            Passed to ``keras.Model.fit`` (prefer routed ``fit__*`` parameters).

        Returns
        -------
        self : FERClassifier
            The fitted classifier.
        """
        self._check_params()
        if validation_data is not None:
            kwargs["validation_data"] = validation_data
        with seeded(self.random_state):
            if self.warm_start and self.initialized_:
                y = align_labels(y, self.classes_)
                self._warm_start(X, y)
            super().fit(X, y, sample_weight=sample_weight, **kwargs)
        # scikeras clears classes_ in fit and sets it again only when it
        # builds a new model, so a warm start would leave it None.
        self.classes_ = self.target_encoder_.classes_
        return self

    def _warm_start(self, X, y):
        """Keep the fitted weights; new output layer if the labels differ; fresh optimizer.

        The callbacks are made again from the current parameters: scikeras
        would keep the instances made when the model was first built.
        """
        new = np.unique(np.asarray(y))
        if set(new.tolist()) != set(self.classes_.tolist()):
            warnings.warn(
                f"warm_start: y holds the classes {new.tolist()}, the fitted network "
                f"{self.classes_.tolist()}; the output layer is replaced by a new, untrained "
                "one for the new classes (the rest of the network keeps its weights).",
                UserWarning,
                stacklevel=3,
            )
            previous = self.model_
            self.initialize(X, y)
            transfer_body(previous, self.model_)
        else:
            self.model_.compile(**self._get_compile_kwargs())
            self._initialize_callbacks()

    def partial_fit(self, X, y, classes=None, sample_weight=None, **kwargs):
        """Train for one more epoch, keeping the model and its history.

        The first call on an unfitted classifier builds the network, seeded
        by ``random_state``; later calls continue without reseeding. With
        ``checkpoint_dir``, the checkpoint counts every epoch trained and is
        not marked finished.

        Parameters
        ----------
        X : array-like of shape (n_samples, 2304), (n_samples, 48, 48) or (n_samples, 48, 48, 1)
            Normalized faces.
        y : array-like of shape (n_samples,)
            Integer labels or emotion names.
        classes : array-like of shape (n_classes,), default=None
            Every class of the whole training set, as scikit-learn's
            ``partial_fit`` takes it: needed on the first call when ``y``
            lacks some classes; later calls may omit it. None: the classes
            of the first call's ``y``.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each face in the loss.
        **kwargs
            Passed to ``keras.Model.fit``.

        Returns
        -------
        self : FERClassifier
            The classifier, trained one epoch more.

        Examples
        --------
        >>> import numpy as np
        >>> from skfer import FERClassifier
        >>> X, y = np.random.default_rng(0).random((8, 2304), dtype=np.float32), np.arange(8) % 2
        >>> clf = FERClassifier(filters=(4,), kernel_sizes=3, dropout=0.1, dense_units=8, augment=False,
        ...                     random_state=0)
        >>> clf.partial_fit(X, y, classes=[0, 1, 2]).classes_.tolist()
        [0, 1, 2]
        """
        self._check_params()
        if self.initialized_:
            y = align_labels(y, self.classes_)
            if classes is not None and set(align_labels(classes, self.classes_).tolist()) != set(self.classes_.tolist()):
                raise ValueError(
                    f"partial_fit: classes={list(classes)} differ from the classes of the first call, "
                    f"{self.classes_.tolist()}; start a new classifier (or fit) for other classes."
                )
            return super().partial_fit(X, y, sample_weight=sample_weight, _partial=True, **kwargs)
        if classes is not None:
            classes = np.unique(np.asarray(classes))
            unknown = sorted(set(np.asarray(y).tolist()) - set(classes.tolist()))
            if unknown:
                raise ValueError(f"partial_fit: y holds {unknown}, which classes={classes.tolist()} lacks.")
        with seeded(self.random_state):
            return super().partial_fit(X, y, classes=classes, sample_weight=sample_weight, _partial=True, **kwargs)

    # -- prediction ----------------------------------------------------------------

    def _make_predictor(self):
        """Make ``predictor_`` from ``model_`` in ``predict_dtype``, and note what it was made for."""
        self.predictor_ = inference_model(self.model_, self.predict_dtype)
        self._predictor_source = (self.predictor_, self.model_, resolve_dtype(self.predict_dtype))

    def _predictor(self):
        """``predictor_`` if it was made for ``model_`` in ``predict_dtype``, else a graph made for this call.

        The check compares identities, not layers: it costs nothing next to one face's prediction.
        """
        self._validate_params_subset(("predict_dtype", "tta"))
        source = getattr(self, "_predictor_source", (None, None, None))
        predictor = getattr(self, "predictor_", None)
        if (
            predictor is not None
            and source[0] is predictor
            and source[1] is self.model_
            and source[2] == resolve_dtype(self.predict_dtype)
        ):
            return predictor
        return inference_model(self.model_, self.predict_dtype)

    def set_params(self, **params):
        """Set parameters; a fitted classifier's ``predictor_`` follows a new ``predict_dtype``.

        Parameters
        ----------
        **params
            Parameters of the classifier, as for any scikit-learn estimator.

        Returns
        -------
        self : FERClassifier
            The classifier.

        Examples
        --------
        >>> from skfer import FERClassifier
        >>> FERClassifier().set_params(predict_dtype="bfloat16").predict_dtype
        'bfloat16'
        """
        super().set_params(**params)
        fitted = getattr(self, "model_", None) is not None
        if fitted and params.get("predict_dtype") in PREDICT_DTYPES:  # an unknown one fails at prediction
            self._make_predictor()
        return self

    def _validate_params_subset(self, names):
        validate_parameter_constraints(
            {name: self._parameter_constraints[name] for name in names},
            {name: getattr(self, name) for name in names},
            caller_name=type(self).__name__,
        )

    def _proba(self, X, batch_size=None):
        """Class probabilities through ``predictor_``, averaged over the ``tta`` views."""
        check_is_fitted(self, "model_")
        X, _ = self._validate_data(X, reset=False)
        X = self.feature_encoder_.transform(X)
        predictor = self._predictor()
        size = batch_size or getattr(self, "predict__batch_size", None) or PREDICT_BATCH
        views = tta_views(np.asarray(X, dtype=np.float32), self.tta, self.crop_size)
        return sum(predict_in_batches(predictor, view, size) for view in views) / len(views)

    def _prediction_batch(self, kwargs, method):
        """The ``batch_size`` keyword, the one keyword prediction takes; any other is refused by name."""
        kwargs = dict(kwargs)
        batch_size = kwargs.pop("batch_size", None)
        if kwargs.pop("verbose", 0):
            kwargs["verbose"] = True  # skfer's prediction prints nothing: refuse rather than ignore
        if kwargs:
            raise TypeError(
                f"FERClassifier.{method} takes batch_size as its only keyword (tta and "
                f"predict_dtype are parameters); got {sorted(kwargs)}."
            )
        if batch_size is not None and (not isinstance(batch_size, Integral) or batch_size < 1):
            raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}.")
        return batch_size

    def predict(self, X, **kwargs):
        """Predict the emotion (class label) of each face.

        Parameters
        ----------
        X : array-like of shape (n_samples, 2304), (n_samples, 48, 48) or (n_samples, 48, 48, 1)
            Normalized faces.
        **kwargs
            ``batch_size`` (faces per network call; default ``predict__batch_size``
            or 256). Any other keyword raises a TypeError naming it.

        Returns
        -------
        ndarray of shape (n_samples,)
            The most probable class of each face, from ``classes_``.
        """
        proba = self._proba(X, self._prediction_batch(kwargs, "predict"))
        return self.classes_[proba.argmax(axis=1)]

    def predict_proba(self, X, **kwargs):
        """Probability of each class for each face.

        Parameters
        ----------
        X : array-like of shape (n_samples, 2304), (n_samples, 48, 48) or (n_samples, 48, 48, 1)
            Normalized faces.
        **kwargs
            ``batch_size`` (faces per network call; default ``predict__batch_size``
            or 256). Any other keyword raises a TypeError naming it.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``; rows sum to 1; with
            ``tta``, the mean over the views.
        """
        proba = self._proba(X, self._prediction_batch(kwargs, "predict_proba"))
        return proba.reshape(-1, self.n_classes_)

    def score(self, X, y, sample_weight=None):
        """Accuracy on faces ``X`` with labels ``y``.

        Integer FER2013 labels and emotion names are interchangeable when
        the classes are FER2013 emotions.

        Parameters
        ----------
        X : array-like of shape (n_samples, 2304), (n_samples, 48, 48) or (n_samples, 48, 48, 1)
            Normalized faces.
        y : array-like of shape (n_samples,)
            True labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each face.

        Returns
        -------
        float
            Fraction of faces classified correctly.
        """
        from sklearn.metrics import accuracy_score

        check_is_fitted(self, "model_")
        y = align_labels(y, self.classes_)
        return accuracy_score(y, self.predict(X), sample_weight=sample_weight)

    def summary(self):
        """Return the Keras model summary as text.

        Returns
        -------
        str
            Layers, output shapes and parameter counts of ``model_``.

        Examples
        --------
        >>> import numpy as np
        >>> from skfer import FERClassifier
        >>> X, y = np.zeros((4, 2304), dtype=np.float32), [0, 1, 0, 1]
        >>> clf = FERClassifier(epochs=1, augment=False).fit(X, y)
        >>> "Total params" in clf.summary()
        True
        """
        check_is_fitted(self, "model_")
        lines = []
        self.model_.summary(print_fn=lambda text, *args, **kwargs: lines.append(text))
        return "\n".join(lines)

    # -- persistence and tags --------------------------------------------------------

    def __getstate__(self):
        # The prediction graph is derived from model_; it is made again on load.
        state = super().__getstate__()
        state.pop("predictor_", None)
        state.pop("_predictor_source", None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if "model_" in state:
            self._make_predictor()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = "classifier"
        tags.classifier_tags = ClassifierTags(poor_score=True)
        tags.target_tags.required = True
        tags.non_deterministic = self.random_state is None
        return tags
