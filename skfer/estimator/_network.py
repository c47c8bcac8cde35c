"""The Keras network of a FERClassifier, its compile arguments and the user's callbacks, from its parameters."""

import inspect
from collections.abc import Mapping

import keras
from sklearn.base import clone

from ..models import ARCHITECTURES, LabelAccuracy, SmoothedSparseCrossentropy
from ..models._inference import DTYPES
from ._augmentation import Augmentation
from ._routing import routed
from ._seeding import seed_from

#: FERClassifier's default ``loss``: the one that can distill from a teacher's probabilities.
DEFAULT_LOSS = "sparse_categorical_crossentropy"
#: Builder parameters that FERClassifier sets itself (``dropout`` is a parameter of its own).
_SET_BY_THE_CLASSIFIER = ("n_classes", "dropout", "augmentation", "dtype", "seed", "name")


def architecture_settings(architecture):
    """The settings of a named architecture's builder that ``architecture__*`` may set, with their defaults.

    Examples
    --------
    >>> from skfer.estimator._network import architecture_settings
    >>> sorted(architecture_settings("dcnn"))[:3]
    ['activation', 'convs_per_block', 'dense_dropout']
    """
    parameters = inspect.signature(ARCHITECTURES[architecture]).parameters
    return {name: p.default for name, p in parameters.items() if name not in _SET_BY_THE_CLASSIFIER}


def network_params(estimator):
    """The builder's settings ``estimator`` routes (``architecture__*``), checked against the builder's.

    Examples
    --------
    >>> from skfer import FERClassifier
    >>> from skfer.estimator._network import network_params
    >>> network_params(FERClassifier(architecture__filters=(8, 16), architecture__dense_units=32))
    {'filters': (8, 16), 'dense_units': 32}
    """
    given = routed(estimator, "architecture")
    accepted = architecture_settings(estimator.architecture)
    unknown = sorted(set(given) - set(accepted))
    if unknown:
        raise ValueError(
            f"architecture__{unknown[0]} is not a setting of architecture={estimator.architecture!r}; "
            f"it takes {', '.join(accepted)}."
        )
    return given


def resolved_augmentation(estimator):
    """The augmentation ``estimator`` trains with: an :class:`Augmentation` (routed settings applied), a Keras layer, or None.

    Examples
    --------
    >>> from skfer import FERClassifier
    >>> from skfer.estimator._network import resolved_augmentation
    >>> resolved_augmentation(FERClassifier(augmentation__zoom=0.2)).zoom
    0.2
    >>> resolved_augmentation(FERClassifier(augmentation=None)) is None
    True
    """
    augmentation, settings = estimator.augmentation, routed(estimator, "augmentation")
    if isinstance(augmentation, keras.layers.Layer) or augmentation is None:
        if settings:
            raise ValueError(
                f"augmentation__{next(iter(settings))} sets a setting of skfer's Augmentation; "
                f"augmentation={augmentation!r} has none. Pass augmentation=Augmentation(...) instead."
            )
        return augmentation
    if augmentation is Augmentation:
        spec = Augmentation()
    elif isinstance(augmentation, Augmentation):
        spec = clone(augmentation)
    else:
        raise ValueError(
            "augmentation must be skfer.Augmentation (the class, for the defaults), an Augmentation, "
            f"a Keras layer (a block of your own) or None; got {augmentation!r}."
        )
    unknown = sorted(set(settings) - set(spec.get_params()))
    if unknown:
        raise ValueError(
            f"augmentation__{unknown[0]} is not a setting of Augmentation; it takes "
            f"{', '.join(spec.get_params())}."
        )
    return spec.set_params(**settings).check()


def build_network(estimator, n_classes):
    """A new, compiled network for ``n_classes`` classes, seeded by ``estimator.random_state``.

    Examples
    --------
    >>> from skfer import FERClassifier
    >>> from skfer.estimator._network import build_network
    >>> clf = FERClassifier(architecture__filters=(4,), architecture__dense_units=8, dropout=0.1)
    >>> build_network(clf, 3).output_shape
    (None, 3)
    """
    seed = seed_from(estimator.random_state)
    augmentation = resolved_augmentation(estimator)
    if augmentation is None:
        layers = []
    elif isinstance(augmentation, Augmentation):
        layers = augmentation.layers(seed)
    else:
        layers = [augmentation]
    dropout = {} if estimator.dropout is None else {"dropout": estimator.dropout}
    model = ARCHITECTURES[estimator.architecture](
        n_classes,
        **network_params(estimator),
        **dropout,
        augmentation=layers,
        dtype=DTYPES[estimator.train_dtype],
        seed=seed,
    )
    model.compile(**compile_kwargs(estimator))
    return model


def _optimizer(estimator):
    kwargs = routed(estimator, "optimizer")
    optimizer = estimator.optimizer
    if isinstance(optimizer, keras.optimizers.Optimizer):
        # A copy: an optimizer instance holds the variables of the model it trained.
        config = {**optimizer.get_config(), **kwargs}
        if estimator.weight_decay is not None:
            config["weight_decay"] = estimator.weight_decay
        return type(optimizer).from_config(config)
    if optimizer == "sgd_nesterov":
        optimizer, kwargs = keras.optimizers.SGD, {"nesterov": True, "momentum": 0.9, **kwargs}
    elif isinstance(optimizer, str):
        try:
            optimizer = type(keras.optimizers.get(optimizer))
        except ValueError:
            raise ValueError(
                f"optimizer={estimator.optimizer!r} is not a Keras optimizer name (such as 'adam', "
                "'adamw', 'nadam', 'sgd') nor 'sgd_nesterov'."
            ) from None
    kwargs.setdefault("learning_rate", estimator.learning_rate)
    if estimator.weight_decay is not None:
        kwargs["weight_decay"] = estimator.weight_decay
    try:
        return optimizer(**kwargs)
    except TypeError as error:
        raise TypeError(f"optimizer {optimizer.__name__} refused the routed parameters {kwargs}: {error}") from None


def compile_kwargs(estimator):
    """``optimizer``, ``loss`` and ``metrics`` for ``keras.Model.compile``, from ``estimator``'s parameters.

    The optimizer is made anew each time, from a Keras name, ``"sgd_nesterov"``
    (SGD with Nesterov momentum 0.9), a class or a copy of an instance, with
    ``learning_rate``, ``weight_decay`` and the routed ``optimizer__*``
    parameters (which take precedence). The default loss is
    :class:`~skfer.models.SmoothedSparseCrossentropy` with ``label_smoothing``,
    distilling with weight ``distillation`` where the targets carry a
    teacher's probabilities (``fit(..., teacher_proba=P)``), and its accuracy
    :class:`~skfer.models.LabelAccuracy`; a loss class gets the routed
    ``loss__*`` parameters.

    Examples
    --------
    >>> from skfer import FERClassifier
    >>> from skfer.estimator._network import compile_kwargs
    >>> kwargs = compile_kwargs(FERClassifier(optimizer="sgd_nesterov", learning_rate=0.01))
    >>> type(kwargs["optimizer"]).__name__, kwargs["optimizer"].nesterov, kwargs["metrics"][0].name
    ('SGD', True, 'accuracy')
    """
    loss = estimator.loss
    loss_kwargs = routed(estimator, "loss")
    if isinstance(loss, type):
        loss = loss(**loss_kwargs)
    elif loss_kwargs:
        raise ValueError(f"Routed loss__ parameters {sorted(loss_kwargs)} need loss to be a class; got {loss!r}.")
    metrics = ["accuracy"]
    if estimator.loss == DEFAULT_LOSS:  # takes labels, or labels followed by a teacher's probabilities
        loss = SmoothedSparseCrossentropy(estimator.label_smoothing, teacher_weight=estimator.distillation)
        metrics = [LabelAccuracy()]
    return {"optimizer": _optimizer(estimator), "loss": loss, "metrics": metrics}


def user_callbacks(estimator):
    """The callbacks of ``callbacks`` and ``fit__callbacks``, classes made into fresh instances.

    A class gets the routed ``callbacks__name`` parameters, and
    ``callbacks__KEY__name`` where KEY is its position in a list (or its key
    in a dict); an instance is used as given. Made for every fit, so clones
    and successive fits never share a callback's counters.

    Examples
    --------
    >>> import keras
    >>> from skfer import FERClassifier
    >>> from skfer.estimator._network import user_callbacks
    >>> clf = FERClassifier(callbacks=[keras.callbacks.EarlyStopping], callbacks__0__patience=2)
    >>> [(type(c).__name__, c.patience) for c in user_callbacks(clf)]
    [('EarlyStopping', 2)]
    """
    params = estimator.get_params()
    made = []
    for destination in ("callbacks", "fit__callbacks"):
        given = params.get(destination)
        if given is None:
            continue
        if isinstance(given, Mapping):
            items = list(given.items())
        elif isinstance(given, (list, tuple)):
            items = list(enumerate(given))
        else:
            items = [(0, given)]
        common = routed(estimator, destination)
        for key, callback in items:
            if isinstance(callback, type):
                callback = callback(**{**common, **routed(estimator, f"{destination}__{key}")})
            if not isinstance(callback, keras.callbacks.Callback):
                raise TypeError(
                    f"{destination}[{key!r}] must be a keras.callbacks.Callback class or instance; "
                    f"got {callback!r}."
                )
            made.append(callback)
    return made
