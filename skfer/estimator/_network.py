"""The Keras network of a FERClassifier, its compile arguments and the user's callbacks, from its parameters."""

import inspect
from collections.abc import Mapping

import keras

from ..models import (
    ARCHITECTURES,
    FaceCrop,
    RandomErasing,
    RandomPhotometric,
    SmoothedSparseCrossentropy,
    augmentation_layers,
)
from ..models._inference import DTYPES
from ..models._seeds import LayerSeeds
from ._seeding import seed_from

#: Parameters passed to the architecture's builder when set.
NETWORK_PARAMS = ("filters", "kernel_sizes", "dropout", "dense_units", "dense_dropout", "activation")


def network_params(estimator):
    """The architecture parameters ``estimator`` sets (not None), checked against the builder's.

    Examples
    --------
    >>> from skfer import FERClassifier
    >>> from skfer.estimator._network import network_params
    >>> network_params(FERClassifier(filters=(8, 16), dense_units=32))
    {'filters': (8, 16), 'dense_units': 32}
    """
    given = {name: getattr(estimator, name) for name in NETWORK_PARAMS if getattr(estimator, name) is not None}
    builder = ARCHITECTURES[estimator.architecture]
    unknown = sorted(set(given) - set(inspect.signature(builder).parameters))
    if unknown:
        raise ValueError(
            f"architecture={estimator.architecture!r} has no parameter {', '.join(unknown)}; "
            f"leave it None (it applies to the DCNN)."
        )
    return given


def build_network(estimator, n_classes):
    """A new, compiled network for ``n_classes`` classes, seeded by ``estimator.random_state``.

    Examples
    --------
    >>> from skfer import FERClassifier
    >>> from skfer.estimator._network import build_network
    >>> model = build_network(FERClassifier(filters=(4,), kernel_sizes=3, dropout=0.1, dense_units=8), 3)
    >>> model.output_shape
    (None, 3)
    """
    seed = seed_from(estimator.random_state)
    # Each augmentation layer draws from a stream of its own: equal seeds
    # would give two layers the same random numbers.
    seeds = LayerSeeds(None if seed is None else f"augmentation {seed}")
    augmentation = []
    if estimator.augment:
        augmentation = augmentation_layers(
            rotation=estimator.rotation,
            shift=estimator.shift,
            shear=estimator.shear,
            zoom=estimator.zoom,
            horizontal_flip=estimator.horizontal_flip,
            seed=seeds.next(),
        )
    if estimator.crop_size is not None:
        augmentation = [*augmentation, FaceCrop(estimator.crop_size, seed=seeds.next(), name="crop")]
    if estimator.photometric:
        augmentation = [*augmentation, RandomPhotometric(estimator.photometric, seed=seeds.next(), name="photometric")]
    if estimator.erasing:
        augmentation = [*augmentation, RandomErasing(estimator.erasing, seed=seeds.next(), name="erasing")]
    model = ARCHITECTURES[estimator.architecture](
        n_classes,
        **network_params(estimator),
        augmentation=augmentation,
        dtype=DTYPES[estimator.train_dtype],
        seed=seed,
    )
    model.compile(**compile_kwargs(estimator))
    return model


def routed(estimator, prefix):
    """The routed parameters ``prefix__name`` of ``estimator`` as ``{name: value}`` (one level only).

    Examples
    --------
    >>> from skfer import FERClassifier
    >>> from skfer.estimator._network import routed
    >>> routed(FERClassifier(optimizer__momentum=0.8, fit__verbose=0), "optimizer")
    {'momentum': 0.8}
    """
    start = f"{prefix}__"
    return {
        name[len(start):]: value
        for name, value in estimator.get_params().items()
        if name.startswith(start) and "__" not in name[len(start):]
    }


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
    parameters (which take precedence). With ``label_smoothing`` the default
    loss becomes :class:`~skfer.models.SmoothedSparseCrossentropy`; a loss
    class gets the routed ``loss__*`` parameters.

    Examples
    --------
    >>> from skfer import FERClassifier
    >>> from skfer.estimator._network import compile_kwargs
    >>> kwargs = compile_kwargs(FERClassifier(optimizer="sgd_nesterov", learning_rate=0.01))
    >>> type(kwargs["optimizer"]).__name__, kwargs["optimizer"].nesterov, kwargs["metrics"]
    ('SGD', True, ['accuracy'])
    """
    loss = estimator.loss
    loss_kwargs = routed(estimator, "loss")
    if isinstance(loss, type):
        loss = loss(**loss_kwargs)
    elif loss_kwargs:
        raise ValueError(f"Routed loss__ parameters {sorted(loss_kwargs)} need loss to be a class; got {loss!r}.")
    if estimator.label_smoothing and estimator.loss == "sparse_categorical_crossentropy":
        loss = SmoothedSparseCrossentropy(estimator.label_smoothing)
    metrics = estimator.metrics
    metrics = [] if metrics is None else [metrics] if isinstance(metrics, str) else list(metrics)
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
