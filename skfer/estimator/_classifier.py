"""FERClassifier: skfer's networks as a scikit-learn classifier on scikeras' public surface.

The estimator holds the parameters and the scikit-learn API. The network and
its compile arguments come from :mod:`skfer.estimator._network`, every fit
runs through :mod:`skfer.estimator._training`, and prediction through the
graph of :mod:`skfer.models._inference`.
"""


import numpy as np
from scikeras.wrappers import KerasClassifier
from sklearn.base import BaseEstimator
from sklearn.utils import ClassifierTags
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .._labels import align_labels
from ..inference._engine import INT8, check_engine_packages
from .._validation import check_params, passes_validation
from ._prediction import batch_size_of, make_predictor, probabilities, renew_predictor
from ..models._inference import PREDICT_DTYPES
from ._augmentation import Augmentation
from ._inputs import (
    PARAMETER_CONSTRAINTS,
    check_partial_fit_labels,
    check_teacher_proba,
    check_rates,
    check_routed,
    faces_2d,
    grouped_defaults,
)
from ._network import build_network, network_params, resolved_augmentation
from ._routing import ROUTING_PREFIXES
from ._training import fit_arrays, fit_options, warm_start

#: ``_check_faces``' default: no labels to check (``y=None`` is refused, as scikit-learn refuses it).
NO_LABELS = object()


class FERClassifier(KerasClassifier):
    """Deep CNN for facial emotion recognition on 48x48 grayscale faces.

    A scikit-learn classifier (a scikeras ``KerasClassifier``). The defaults
    are the best recipe measured on FER2013 (``benchmarks/results``): the
    DCNN with 3x3 kernels and ReLU (:func:`~skfer.models.build_dcnn`),
    flips and random 44-pixel crops, AdamW with a cosine schedule and label
    smoothing, 40 epochs. On all 28,709 FER2013 Training faces that takes
    one to two hours on a 2-core CPU, depending on the CPU
    (``train_dtype="bfloat16"`` helps where the CPU computes it; measured
    speeds are on the documentation's benchmarks page); on a few thousand
    faces, minutes. The seed notebook's recipe is
    ``skfer.experiments.recipe("seed")``.

    ``X`` holds faces scaled like the training data (e.g. by
    :class:`PixelNormalizer`), of shape (n, 2304), (n, 48, 48) or
    (n, 48, 48, 1). ``y`` holds integer labels or emotion names; ``classes_``
    and predictions are the labels given to ``fit``.

    Grouped settings are routed by prefix, as in skorch: ``architecture__*``
    reach the network builder, ``augmentation__*`` the :class:`Augmentation`,
    ``lr_schedule__*`` the schedule, ``early_stopping__*`` Keras'
    ``EarlyStopping``, ``optimizer__*`` and ``loss__*`` the optimizer and
    loss. ``get_params(deep=True)`` lists each with its default, so
    ``GridSearchCV`` sweeps them by those names; an unknown one is refused
    by name. ``fit``, ``partial_fit``, warm starts,
    :func:`skfer.fit_dataset` and ``skfer train`` all train through
    one routine.

    Parameters
    ----------
    architecture : {"dcnn", "vgg", "resnet"}, default="dcnn"
        The network (:data:`skfer.models.ARCHITECTURES`). Its builder's
        settings are routed: ``architecture__filters``,
        ``architecture__kernel_sizes``, ``architecture__dense_units``,
        ``architecture__dense_dropout``, ``architecture__activation``, ...
    dropout : float or sequence of float, default=None
        Dropout after each conv block; one float sets every block's rate.
        None: the architecture's (DCNN: (0.1, 0.2, 0.3)).
    augmentation : Augmentation class or instance, keras.layers.Layer or None, default=Augmentation
        What training faces undergo: :class:`Augmentation` (flips and random
        44-pixel crops by default; its settings routed as
        ``augmentation__rotation`` and so on), a Keras layer of your own
        (it must act only in training), or None.
    loss : str or keras.losses.Loss class, default="sparse_categorical_crossentropy"
        Keras loss; a class gets the routed ``loss__*`` parameters.
    label_smoothing : float, default=0.1
        Probability mass of each training label spread evenly over all
        classes; used when ``loss`` is the default.
    distillation : float, default=0.5
        Share of each training target taken from the teacher's
        probabilities when ``fit`` gets ``teacher_proba`` (knowledge
        distillation; the rest from the smoothed label); 0 ignores them.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss, as in scikit-learn.
    optimizer : str, keras.optimizers.Optimizer class or instance, default="adamw"
        By Keras name ("adam", "adamw", "nadam", "sgd", ...) or
        ``"sgd_nesterov"``. Made anew for every fit, with the routed
        ``optimizer__*`` parameters.
    learning_rate : float, default=2e-3
        Learning rate (the peak of the cosine and one-cycle schedules).
    weight_decay : float or None, default=0.01
        Decoupled weight decay of the optimizer.
    lr_schedule : {"cosine", "onecycle", "plateau"} or None, default="cosine"
        ``"cosine"``: a short warm-up (``lr_schedule__warmup``, 5% of the
        epochs), then half a cosine towards 0 at the last epoch.
        ``"onecycle"``: Smith's one-cycle policy. ``"plateau"``: Keras'
        ``ReduceLROnPlateau`` on validation accuracy (``lr_schedule__factor``
        0.5, ``__patience`` 7, ``__min_lr`` 1e-7); it needs validation data.
        None: constant.
    early_stopping : bool, default=False
        Stop when validation accuracy has not improved for
        ``early_stopping__patience`` (10) epochs and keep the best epoch's
        weights (Keras' ``EarlyStopping``). The validation data is
        ``validation_data`` if given, else a stratified ``validation_fraction``
        of the training faces.
    validation_fraction : float, default=0.1
        Share of the training faces held out, stratified by class, as
        validation data when ``early_stopping`` or the plateau schedule needs
        it and ``fit`` got no ``validation_data``.
    epochs : int, default=40
        Passes over the training data (``fit(..., epochs=n)`` for one fit).
    batch_size : int, default=64
        Faces per gradient step.
    callbacks : list or dict of keras.callbacks.Callback classes or instances, default=None
        More Keras callbacks. Classes are made anew for every fit, with the
        routed ``callbacks__NAME`` and ``callbacks__KEY__NAME`` parameters.
    verbose : {"auto", 0, 1, 2}, default="auto"
        0 silent; 1 progress within every epoch (faces/s, time left); 2
        Keras' line per epoch; ``"auto"``: 1 where a person watches (a
        terminal or a notebook), else 0.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialization, dropout, augmentation, the batch order
        and the validation split, without touching any process-wide
        generator: two fits with the same seed give identical weights.
    train_dtype : {"float32", "bfloat16"}, default="float32"
        Compute dtype of training; ``"bfloat16"`` (Keras' ``mixed_bfloat16``)
        is worth it only on CPUs that compute bfloat16 natively.
    warm_start : bool, default=False
        Whether ``fit`` starts from the fitted network's weights with a fresh
        optimizer, in a network built again from the current parameters.
        If ``y`` holds other labels than ``classes_``, the output layer is
        replaced by a new one for them.
    freeze_blocks : int, default=0
        Number of conv blocks, from the input, not trained (fine-tuning).
    checkpoint_dir : str or path-like, default=None
        If set, everything a fit needs to continue is saved there after every
        epoch, with a fingerprint of the fit. A fit locks the folder.
    resume : bool or "if_matching", default=False
        What a fit does with a checkpoint in ``checkpoint_dir``. False: start
        anew. True: continue from its last epoch, or raise an error naming
        what differs. ``"if_matching"``: continue a matching one, else warn
        and start anew.
    predict_dtype : {"float32", "bfloat16", "auto", "int8"}, default="float32"
        Compute dtype of prediction. ``"int8"`` predicts with ONNX Runtime on
        an 8-bit copy of the network that every fit makes at its end
        (several times faster on any x86 CPU); ``"auto"`` picks bfloat16
        where the CPU computes it natively.
    tta : {"flip", "ten_crop"} or None, default=None
        Test-time augmentation: average over each face and its mirror image,
        or over five crops and their mirrors.
    **kwargs
        Routed parameters (``PREFIX__name``) of the prefixes above, and
        ``fit__validation_data``, ``predict__batch_size``.

    Attributes
    ----------
    model_ : keras.Model
        The fitted Keras model.
    classes_ : ndarray of shape (n_classes,)
        Class labels known to the classifier, sorted.
    n_classes_ : int
        Number of classes.
    n_features_in_ : int
        Number of features per face (2304).
    history_ : dict of str to list
        Per-epoch metrics (``loss``, ``accuracy``, ``val_*`` where there is
        validation data, ``learning_rate``) and ``epoch_seconds``.
    predictor_ : keras.Model or Int8Engine
        The prediction graph over ``model_``'s own variables (never staler
        than ``model_``); with ``predict_dtype="int8"``, ``engine_``.
    engine_ : skfer.inference._engine.Int8Engine
        The 8-bit copy of the network made by a fit with
        ``predict_dtype="int8"``; it knows the weights it was made from.

    See Also
    --------
    skfer.models.build_dcnn : The Keras builder behind the default network.
    skfer.fit_dataset : Train on faces read batch by batch.

    Examples
    --------
    >>> import numpy as np
    >>> from skfer import FERClassifier
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.random((20, 2304), dtype=np.float32), np.arange(20) % 2
    >>> clf = FERClassifier(architecture__filters=(4,), architecture__dense_units=8, dropout=0.1,
    ...                     epochs=1, random_state=0).fit(X, y)
    >>> clf.predict(X[:3]).shape, clf.n_features_in_
    ((3,), 2304)
    """

    _parameter_constraints = PARAMETER_CONSTRAINTS

    def __init__(
        self,
        *,
        architecture="dcnn",
        dropout=None,
        augmentation=Augmentation,
        loss="sparse_categorical_crossentropy",
        label_smoothing=0.1,
        distillation=0.5,
        class_weight=None,
        optimizer="adamw",
        learning_rate=2e-3,
        weight_decay=0.01,
        lr_schedule="cosine",
        early_stopping=False,
        validation_fraction=0.1,
        epochs=40,
        batch_size=64,
        callbacks=None,
        verbose="auto",
        random_state=None,
        train_dtype="float32",
        warm_start=False,
        freeze_blocks=0,
        checkpoint_dir=None,
        resume=False,
        predict_dtype="float32",
        tta=None,
        **kwargs,
    ):
        # scikeras' own constructor is not called: it stores parameters
        # (model, build_fn, run_eagerly, ...) that skfer's fits do not use.
        self.architecture = architecture
        self.dropout = dropout
        self.augmentation = augmentation
        self.loss = loss
        self.label_smoothing = label_smoothing
        self.distillation = distillation
        self.class_weight = class_weight
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.lr_schedule = lr_schedule
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.epochs = epochs
        self.batch_size = batch_size
        self.callbacks = callbacks
        self.verbose = verbose
        self.random_state = random_state
        self.train_dtype = train_dtype
        self.warm_start = warm_start
        self.freeze_blocks = freeze_blocks
        self.checkpoint_dir = checkpoint_dir
        self.resume = resume
        self.predict_dtype = predict_dtype
        self.tta = tta
        vars(self).update(kwargs)

    # -- data and network ------------------------------------------------------------
    # Only scikeras' public surface is used (tests/test_scikeras_surface.py lists it);
    # building and training are skfer's own (skfer.estimator._network, ._training).

    def _check_params(self):
        check_params(self.get_params(deep=False), PARAMETER_CONSTRAINTS, type(self).__name__)
        check_routed(self)
        if self.predict_dtype == INT8:
            check_engine_packages()
        if self.dropout is not None:
            check_rates(self.dropout, "dropout")
        network_params(self)
        resolved_augmentation(self)

    def get_params(self, deep=True):
        """Parameters of the classifier; with ``deep``, every routed setting with its current value.

        Parameters
        ----------
        deep : bool, default=True
            Whether to list the grouped settings (``architecture__*``,
            ``augmentation__*``, ``lr_schedule__*``, ``early_stopping__*``)
            too, the ones not set with their defaults: the names
            ``GridSearchCV`` sweeps.

        Returns
        -------
        dict
            Parameter names to values.

        Examples
        --------
        >>> from skfer import FERClassifier
        >>> params = FERClassifier(augmentation__zoom=0.2).get_params()
        >>> params["augmentation__zoom"], params["augmentation__crop_size"], params["lr_schedule__warmup"]
        (0.2, 44, 0.05)
        >>> len(FERClassifier().get_params(deep=False))
        25
        """
        params = super().get_params(deep=deep)
        if deep:
            for name, value in grouped_defaults(self).items():
                params.setdefault(name, value)
        return params

    def _check_faces(self, X, y=NO_LABELS, *, reset):
        """Faces as (n, 2304) float32 (and labels), checked; ``reset`` records ``n_features_in_``.

        Without ``y`` only the faces are checked; ``y=None`` is refused as
        scikit-learn refuses it.
        """
        X = faces_2d(X)
        if y is NO_LABELS and not reset and passes_validation(self, X):
            return X, None  # as validate_data would return them, at a fraction of its cost per call
        if y is NO_LABELS:
            return validate_data(self, X, reset=reset, dtype=np.float32), None
        X, y = validate_data(self, X, y, reset=reset, dtype=np.float32)
        check_classification_targets(y)
        return X, y

    def _setup(self, X, y, classes=None):
        """Check the data, fit the encoders and build a new network; the checked data."""
        X, y = self._check_faces(X, y, reset=True)
        if len(np.unique(y if classes is None else classes)) < 2:
            raise ValueError("FERClassifier needs at least 2 classes in y; got 1 class.")
        self.classes_ = None if classes is None else np.unique(np.asarray(classes))
        self.target_encoder_ = self.target_encoder.fit(y)
        vars(self).update(self.target_encoder_.get_metadata())
        self.feature_encoder_ = self.feature_encoder.fit(X)
        self.model_ = build_network(self, self.n_classes_)
        return X, y

    def initialize(self, X, y):
        """Build the network for faces ``X`` and labels ``y`` without training it.

        Parameters
        ----------
        X : array-like of shape (n_samples, 2304), (n_samples, 48, 48) or (n_samples, 48, 48, 1)
            Faces, prepared like the training data.
        y : array-like of shape (n_samples,)
            Labels: every class the network is to know.

        Returns
        -------
        self : FERClassifier
            The classifier, ready to train, or to predict with untrained weights (in
            float32 or bfloat16: an 8-bit engine is made by a fit, never from untrained weights).

        Examples
        --------
        >>> import numpy as np
        >>> from skfer import FERClassifier
        >>> clf = FERClassifier(architecture__filters=(4,), architecture__dense_units=8, dropout=0.1)
        >>> clf.initialize(np.zeros((3, 2304)), ["Happy", "Sad", "Fear"]).classes_.tolist()
        ['Fear', 'Happy', 'Sad']
        """
        self._check_params()
        X, _ = self._setup(X, y)
        renew_predictor(self)  # no int8 engine: it is never made from untrained weights
        return self

    def fit(self, X, y, sample_weight=None, *, validation_data=None, teacher_proba=None, **kwargs):
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
            Faces and labels (in any form ``y`` takes), evaluated after every
            epoch for early stopping and the plateau schedule (default: a
            routed ``fit__validation_data``). :class:`FERPipeline` passes
            ``X_val`` through the preprocessing steps first.
        teacher_proba : array-like or DataFrame of shape (n_samples, n_classes), default=None
            A teacher's probabilities for each face, distilled with weight
            ``distillation``: computed once, e.g. on the clean faces by a
            larger model or a soft vote of models, while this network
            trains on their augmented views. An array's columns follow the
            sorted labels of ``y`` (the ``classes_`` this fit makes); a
            DataFrame's columns name the classes and may come in any order
            or label kind (``pd.DataFrame(teacher.predict_proba(X),
            columns=teacher.classes_)`` for a teacher fitted on FER2013's
            integers when ``y`` holds emotion names). Needs the default
            ``loss``; faces held out for validation are scored on their
            labels.
        **kwargs
            ``epochs``, ``batch_size`` or ``verbose`` for this fit only; any
            other keyword is refused by name.

        Returns
        -------
        self : FERClassifier
            The fitted classifier.

        Examples
        --------
        >>> import numpy as np
        >>> from skfer import FERClassifier
        >>> X, y = np.random.default_rng(0).random((12, 2304), dtype=np.float32), np.arange(12) % 3
        >>> small = dict(architecture__filters=(4,), architecture__dense_units=8, dropout=0.1, epochs=1, random_state=0)
        >>> teacher = FERClassifier(**small).fit(X, y)
        >>> student = FERClassifier(**small, distillation=0.7).fit(X, y, teacher_proba=teacher.predict_proba(X))
        >>> student.classes_.tolist(), len(student.history_["accuracy"])
        ([0, 1, 2], 1)
        """
        self._check_params()
        options = fit_options(self, kwargs, "fit")
        if teacher_proba is not None:  # checked before a warm start changes the fitted network
            teacher_proba = check_teacher_proba(teacher_proba, len(X), np.unique(np.asarray(y)), self.loss)
        if self.warm_start and self.initialized_:
            X, y = warm_start(self, X, y)
        else:
            X, y = self._setup(X, y)
        fit_arrays(self, X, y, sample_weight, validation_data, options, initial_epoch=0, partial=False,
                   teacher_proba=teacher_proba)
        return self

    def partial_fit(self, X, y, classes=None, sample_weight=None, **kwargs):
        """Train for one more epoch, keeping the model and its history.

        The first call builds the network, seeded by ``random_state``; later
        calls continue. A checkpoint counts every epoch and stays unfinished.

        Parameters
        ----------
        X : array-like of shape (n_samples, 2304), (n_samples, 48, 48) or (n_samples, 48, 48, 1)
            Normalized faces.
        y : array-like of shape (n_samples,)
            Integer labels or emotion names.
        classes : array-like of shape (n_classes,), default=None
            Every class of the whole training set, needed on the first call
            when ``y`` lacks some; None: the first call's ``y`` has them all.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each face in the loss.
        **kwargs
            ``batch_size`` or ``verbose`` for this call only, and
            ``validation_data`` (evaluated after the epoch, into
            ``history_``). Settings that act over several epochs of
            validation (``early_stopping``, the plateau schedule) cannot act
            here and are refused by name.

        Returns
        -------
        self : FERClassifier
            The classifier, trained one epoch more.

        Examples
        --------
        >>> import numpy as np
        >>> from skfer import FERClassifier
        >>> X, y = np.random.default_rng(0).random((8, 2304), dtype=np.float32), np.arange(8) % 2
        >>> clf = FERClassifier(architecture__filters=(4,), architecture__dense_units=8, dropout=0.1, augmentation=None,
        ...                     random_state=0)
        >>> clf.partial_fit(X, y, classes=[0, 1, 2]).classes_.tolist()
        [0, 1, 2]
        """
        self._check_params()
        options = fit_options(self, kwargs, "partial_fit")
        if not self.initialized_:
            check_partial_fit_labels(y, classes)
            X, y = self._setup(X, y, classes)
            fit_arrays(self, X, y, sample_weight, None, options, initial_epoch=0, partial=True)
            return self
        y = check_partial_fit_labels(y, classes, self.classes_)
        X, y = self._check_faces(X, y, reset=False)
        fit_arrays(self, X, y, sample_weight, None, options, initial_epoch=self.current_epoch, partial=True)
        return self

    # -- prediction ----------------------------------------------------------------

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
        plain = {}
        for name, value in params.items():
            prefix, _, setting = name.partition("__")
            if setting and prefix in ROUTING_PREFIXES:
                setattr(self, name, value)  # routed: checked when a fit uses it
            else:
                plain[name] = value
        BaseEstimator.set_params(self, **plain)
        fitted = getattr(self, "model_", None) is not None
        if fitted and params.get("predict_dtype") in (*PREDICT_DTYPES, INT8):  # an unknown one fails at prediction
            make_predictor(self)
        return self

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
        proba = probabilities(self, X, batch_size_of(kwargs, "predict"))
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
        return probabilities(self, X, batch_size_of(kwargs, "predict_proba"))

    def score(self, X, y, sample_weight=None):
        """Accuracy on faces ``X`` with labels ``y``.

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
        >>> clf = FERClassifier(epochs=1, augmentation=None).fit(X, y)
        >>> "Total params" in clf.summary()
        True
        """
        check_is_fitted(self, "model_")
        lines = []
        self.model_.summary(print_fn=lambda text, *args, **kwargs: lines.append(text))
        return "\n".join(lines)

    # -- persistence and tags --------------------------------------------------------

    def __getstate__(self):
        # The prediction graph is derived from model_; it is made again on load
        # (engine_, a copy calibrated on the fit's faces, is kept).
        state = dict(super().__getstate__())  # a copy: pickling leaves the classifier as it was
        state.pop("predictor_", None)
        state.pop("_predictor_source", None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if "model_" in state:
            make_predictor(self)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = "classifier"
        tags.classifier_tags = ClassifierTags(poor_score=True)
        tags.target_tags.required = True
        tags.non_deterministic = self.random_state is None
        return tags
