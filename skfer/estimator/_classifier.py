"""FERClassifier: skfer's networks as a scikit-learn classifier on scikeras' public surface.

The estimator holds the parameters and the scikit-learn API. The network and
its compile arguments come from :mod:`skfer.estimator._network`, every fit
runs through :mod:`skfer.estimator._training`, and prediction through the
graph of :mod:`skfer.models._inference`.
"""


import numpy as np
from scikeras.wrappers import KerasClassifier
from sklearn.utils import ClassifierTags
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .._labels import align_labels
from ..inference._engine import INT8, check_engine_packages
from ..inference._routine import batch_size_of, make_predictor, probabilities, renew_predictor
from ..models._inference import PREDICT_DTYPES
from ._inputs import (
    PARAMETER_CONSTRAINTS,
    check_partial_fit_labels,
    check_rates,
    faces_2d,
)
from ._network import build_network, network_params
from ._training import fit_arrays, warm_start

#: ``_check_faces``' default: no labels to check (``y=None`` is refused, as scikit-learn refuses it).
NO_LABELS = object()


def _checked_faces(X, n_features):
    """Whether ``X`` is what ``validate_data`` would pass through unchanged: finite float32 faces, C-ordered.

    A pipeline's :class:`~skfer.preprocessing.PixelNormalizer` has just
    validated them; one face's ``validate_data`` costs about a fifth of an
    int8 prediction.
    """
    return (
        type(X) is np.ndarray and X.dtype == np.float32 and X.ndim == 2 and X.shape[1] == n_features
        and len(X) > 0 and X.flags.c_contiguous and bool(np.isfinite(X).all())
    )


class FERClassifier(KerasClassifier):
    """Deep CNN for facial emotion recognition on 48x48 grayscale faces.

    A scikit-learn classifier (a scikeras ``KerasClassifier``) around the
    FER2013 seed notebook's DCNN (:func:`~skfer.models.build_dcnn`). The
    defaults are the seed's recipe (Nadam at 1e-3, batch 32, up to 100
    epochs, augmentation); :func:`skfer.experiments.recipe` holds better
    ones. Every knob is a parameter, so ``GridSearchCV`` can sweep it.

    ``X`` holds faces scaled like the training data (e.g. by
    :class:`PixelNormalizer`), of shape (n, 2304), (n, 48, 48) or
    (n, 48, 48, 1). ``y`` holds integer labels or emotion names; when the
    classes are FER2013's emotions, integers 0-6 and names are
    interchangeable wherever labels are taken after ``fit``.

    The parameters, by concern: the **network** (``architecture`` to
    ``activation``), **augmentation** (``augment`` to ``photometric``), the
    **loss and optimizer** (``loss`` to ``metrics``), the **learning-rate
    schedule and stopping** (``lr_schedule`` to ``patience``), the **training
    loop** (``epochs`` to ``train_dtype``), **continuing a fit**
    (``warm_start`` to ``resume``) and **prediction** (``predict_dtype``,
    ``tta``). ``fit``, ``partial_fit``, warm starts,
    :func:`skfer.datasets.fit_dataset` and ``skfer train`` all train through
    one routine, so each parameter acts the same through each.

    Parameters
    ----------
    architecture : {"dcnn", "vgg", "resnet"}, default="dcnn"
        The network (:data:`skfer.models.ARCHITECTURES`): the seed's DCNN,
        a VGG-style or a CIFAR-style ResNet. The network parameters below
        left at None take the architecture's defaults.
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
        Whether training faces get a random affine transform in the ranges
        below, by a layer inactive at inference (:class:`skfer.models.RandomAffine`).
    rotation : float, default=15.0
        Largest rotation in degrees.
    shift : float, default=0.15
        Largest width and height shift, as a fraction of the side.
    shear : float, default=0.15
        Largest shear angle in degrees.
    zoom : float, default=0.15
        Largest zoom in or out, as a fraction of the side.
    horizontal_flip : bool, default=True
        Whether to mirror faces at random.
    crop_size : int, default=None
        If set, the network sees ``crop_size`` x ``crop_size`` windows of
        each face: at random positions in training, the central one at
        inference. Acts whether or not ``augment`` is set.
    erasing : float, default=0.0
        Probability that a training face gets a random rectangle (2-33% of
        its area) replaced by noise (:class:`skfer.models.RandomErasing`).
        Acts whether or not ``augment`` is set; never at inference.
    photometric : float, default=0.0
        Strength of random brightness, contrast, blur and noise on training
        faces (:class:`skfer.models.RandomPhotometric`); 1.0 reaches the
        shifts of the robustness benchmark. It needs faces scaled to [0, 1]
        (``PixelNormalizer(method="scale")``, the pipeline's default); fit
        refuses others. Acts whether or not ``augment`` is set.
    loss : str or keras.losses.Loss class, default="sparse_categorical_crossentropy"
        Keras loss; a class gets the routed ``loss__*`` parameters.
    label_smoothing : float, default=0.0
        Probability mass of each training label spread evenly over all
        classes (:class:`skfer.models.SmoothedSparseCrossentropy`); used when
        ``loss`` is the default.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss, as in scikit-learn.
    optimizer : str, keras.optimizers.Optimizer class or instance, default="nadam"
        By Keras name ("adam", "adamw", "nadam", "sgd", ...) or
        ``"sgd_nesterov"`` (SGD with Nesterov momentum 0.9). Made anew for
        every fit, with the routed ``optimizer__*`` parameters.
    learning_rate : float, default=1e-3
        Learning rate (the peak of the cosine and one-cycle schedules); a
        routed ``optimizer__learning_rate`` takes precedence.
    weight_decay : float, default=None
        Decoupled weight decay: every step multiplies each weight by
        ``1 - learning_rate * weight_decay``.
    metrics : str or list, default="accuracy"
        Keras metrics recorded per epoch in ``history_``.
    lr_schedule : {"plateau", "cosine", "onecycle"} or None, default="plateau"
        ``"plateau"``: with validation data, multiply the rate by
        ``lr_factor`` when the validation metric has not improved for
        ``lr_patience`` epochs, down to ``min_lr``. ``"cosine"``: linear
        warm-up over ``warmup_epochs``, then half a cosine towards 0 at
        ``epochs``. ``"onecycle"``: up from ``learning_rate / 25`` over the
        first 30% of ``epochs``, then a cosine down
        (:class:`skfer.experiments.EpochSchedule`). None: constant.
    lr_factor : float, default=0.5
        Factor of each plateau reduction.
    lr_patience : int, default=7
        Epochs without improvement before a plateau reduction.
    min_lr : float, default=1e-7
        Lower bound of the learning rate under the plateau schedule.
    warmup_epochs : int, default=0
        Warm-up epochs of the cosine schedule.
    early_stopping : bool, default=True
        With validation data, stop when validation accuracy has not improved
        for ``patience`` epochs and restore the best epoch's weights.
    patience : int, default=11
        Epochs without improvement before early stopping.
    epochs : int, default=100
        Number of passes over the training data.
    batch_size : int, default=32
        Faces per gradient step.
    shuffle : bool, default=True
        Whether each epoch visits the faces in a new order (drawn from
        ``random_state`` and the epoch).
    validation_split : float, default=0.0
        Fraction of the training faces (the last ones) held out for validation.
    callbacks : list or dict of keras.callbacks.Callback classes or instances, default=None
        More Keras callbacks. Classes are made anew for every fit, with the
        routed ``callbacks__NAME`` and ``callbacks__KEY__NAME`` parameters,
        so clones (e.g. in ``GridSearchCV``) never share one.
    verbose : int, default=0
        0 silent; 1 progress within every epoch (faces/s, time left in the
        epoch and the run: :class:`skfer._progress.EpochProgress`); 2
        Keras' line per epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialization, dropout, augmentation and the batch
        order, without touching any global generator: two fits with the
        same seed give identical weights.
    train_dtype : {"float32", "bfloat16"}, default="float32"
        Compute dtype of training; ``"bfloat16"`` is Keras'
        ``mixed_bfloat16`` policy (float32 weights and softmax), worth it
        only on CPUs that compute bfloat16 natively.
    warm_start : bool, default=False
        Whether ``fit`` starts from the fitted network's weights (e.g. the
        pretrained model's) with a fresh optimizer, in a network built again
        from the current parameters (so changed augmentation, dropout or
        ``train_dtype`` take effect; parameters that change the weights'
        shapes are refused). If ``y`` holds other labels than ``classes_``,
        the output layer is replaced by a new one for them and the rest of
        the network keeps its weights.
    freeze_blocks : int, default=0
        Number of conv blocks, from the input, whose convolution and
        BatchNorm layers are not trained: for fine-tuning on few faces.
    checkpoint_dir : str or path-like, default=None
        If set, everything a fit needs to continue is saved there after every
        epoch, with a fingerprint of the fit (the parameters that shape what
        it learns, the classes, the data's hash). A fit locks the folder.
    resume : bool or "if_matching", default=False
        What a fit does with a checkpoint in ``checkpoint_dir``. False: start
        anew, replacing it. True: continue from its last epoch exactly as the
        uninterrupted fit would have, or raise an error naming what differs
        if another fit wrote it. ``"if_matching"``: continue a matching one,
        else warn and start anew.
    predict_dtype : {"float32", "bfloat16", "auto", "int8"}, default="float32"
        Compute dtype of prediction. ``"bfloat16"`` is faster only where the
        CPU computes it natively (and on GPUs), and changes probabilities in
        the second or third decimal; ``"auto"`` picks it only there.
        ``"int8"`` predicts with ONNX Runtime on an 8-bit copy of the network
        that every fit makes at its end, calibrated on its faces: several
        times faster on any x86 CPU, probabilities that differ from
        float32's in the second decimal (the fit adds a few seconds to make
        it). Weights changed by hand through ``model_`` are not in the copy:
        predict them in float32.
    tta : {"flip", "ten_crop"} or None, default=None
        Test-time augmentation: average the probabilities over each face
        and its mirror image (``"flip"``), or over five crops (centre and
        corners) and their mirrors (``"ten_crop"``). None predicts each
        face once.
    **kwargs
        Routed parameters: ``optimizer__*``, ``loss__*``, ``callbacks__*``,
        ``fit__*`` (e.g. ``fit__validation_data``) and
        ``predict__batch_size``.

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
        Per-epoch metrics (``loss``, ``val_*``, ``learning_rate``, ...) and
        each epoch's seconds (``epoch_seconds``).
    predictor_ : keras.Model or Int8Engine
        The prediction graph over ``model_``'s own variables (BatchNorm
        folded, augmentation left out): never staler than ``model_``; with
        ``predict_dtype="int8"``, ``engine_``.
    engine_ : skfer.inference._engine.Int8Engine
        The 8-bit ONNX Runtime copy of the network, made by a fit with
        ``predict_dtype="int8"`` (kept when pickled).

    See Also
    --------
    skfer.models.build_dcnn : The Keras builder behind this classifier.
    skfer.datasets.fit_dataset : Train on faces read batch by batch.

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

    _parameter_constraints = PARAMETER_CONSTRAINTS

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
        photometric=0.0,
        loss="sparse_categorical_crossentropy",
        label_smoothing=0.0,
        class_weight=None,
        optimizer="nadam",
        learning_rate=1e-3,
        weight_decay=None,
        metrics="accuracy",
        lr_schedule="plateau",
        lr_factor=0.5,
        lr_patience=7,
        min_lr=1e-7,
        warmup_epochs=0,
        early_stopping=True,
        patience=11,
        epochs=100,
        batch_size=32,
        shuffle=True,
        validation_split=0.0,
        callbacks=None,
        verbose=0,
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
        self.photometric = photometric
        self.label_smoothing = label_smoothing
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.lr_schedule = lr_schedule
        self.lr_factor = lr_factor
        self.lr_patience = lr_patience
        self.min_lr = min_lr
        self.warmup_epochs = warmup_epochs
        self.early_stopping = early_stopping
        self.patience = patience
        self.train_dtype = train_dtype
        self.freeze_blocks = freeze_blocks
        self.checkpoint_dir = checkpoint_dir
        self.resume = resume
        self.predict_dtype = predict_dtype
        self.tta = tta

    # -- data and network ------------------------------------------------------------
    # Only scikeras' public surface is used (tests/test_scikeras_surface.py lists it);
    # building and training are skfer's own (skfer.estimator._network, ._training).

    def _check_params(self):
        self._validate_params()
        if self.predict_dtype == INT8:
            check_engine_packages()
        if self.dropout is not None:
            check_rates(self.dropout, "dropout")
        network_params(self)

    def _check_faces(self, X, y=NO_LABELS, *, reset):
        """Faces as (n, 2304) float32 (and labels), checked; ``reset`` records ``n_features_in_``.

        Without ``y`` only the faces are checked; ``y=None`` is refused as
        scikit-learn refuses it.
        """
        X = faces_2d(X)
        if y is NO_LABELS and not reset and _checked_faces(X, self.n_features_in_):
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
        >>> clf = FERClassifier(filters=(4,), kernel_sizes=3, dropout=0.1, dense_units=8)
        >>> clf.initialize(np.zeros((3, 2304)), ["Happy", "Sad", "Fear"]).classes_.tolist()
        ['Fear', 'Happy', 'Sad']
        """
        self._check_params()
        X, _ = self._setup(X, y)
        renew_predictor(self)  # no int8 engine: it is never made from untrained weights
        return self

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
            Faces and labels (in any form ``y`` takes), evaluated after every
            epoch for early stopping and the plateau schedule (default: a
            routed ``fit__validation_data``). :class:`FERPipeline` passes
            ``X_val`` through the preprocessing steps first.
        **kwargs
            ``batch_size``, ``shuffle``, ``validation_split`` for this fit,
            and arguments of ``keras.Model.fit`` (prefer routed ``fit__*``
            parameters).

        Returns
        -------
        self : FERClassifier
            The fitted classifier.
        """
        self._check_params()
        if self.warm_start and self.initialized_:
            X, y = warm_start(self, X, y)
        else:
            X, y = self._setup(X, y)
        fit_arrays(self, X, y, sample_weight, validation_data, kwargs,
                   epochs=self.epochs, initial_epoch=0, partial=False)
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
            As for :meth:`fit`, except ``epochs`` and ``initial_epoch``.

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
        refused = sorted({"epochs", "initial_epoch"} & set(kwargs))
        if refused:
            raise TypeError(f"partial_fit trains one epoch from the current one; it takes no {refused}.")
        if not self.initialized_:
            check_partial_fit_labels(y, classes)
            X, y = self._setup(X, y, classes)
            fit_arrays(self, X, y, sample_weight, None, kwargs, epochs=1, initial_epoch=0, partial=True)
            return self
        y = check_partial_fit_labels(y, classes, self.classes_)
        X, y = self._check_faces(X, y, reset=False)
        fit_arrays(self, X, y, sample_weight, None, kwargs, epochs=1, initial_epoch=self.current_epoch, partial=True)
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
        super().set_params(**params)
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
