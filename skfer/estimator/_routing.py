"""FERClassifier's routed parameters: ``PREFIX__name`` settings of one of its grouped parameters."""

#: Prefixes whose ``PREFIX__name`` parameters reach a part of the fit: the network builder,
#: the augmentation, the schedule, early stopping, the optimizer, the loss, the user's
#: callbacks, ``fit`` and ``predict``.
ROUTING_PREFIXES = frozenset({
    "architecture", "augmentation", "lr_schedule", "early_stopping",
    "optimizer", "loss", "callbacks", "fit", "predict",
})


def routed(estimator, prefix):
    """The routed parameters ``prefix__name`` of ``estimator`` as ``{name: value}`` (one level only).

    Examples
    --------
    >>> from skfer import FERClassifier
    >>> from skfer.estimator._routing import routed
    >>> routed(FERClassifier(optimizer__momentum=0.8, augmentation__rotation=10), "augmentation")
    {'rotation': 10}
    """
    start = f"{prefix}__"
    return {
        name[len(start):]: value
        for name, value in vars(estimator).items()
        if name.startswith(start) and "__" not in name[len(start):]
    }
