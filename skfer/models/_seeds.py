"""Per-layer seeds from one seed: building a network never reads Python's global generator."""

import random

import keras


class LayerSeeds:
    """Seeds for the initializers and dropout layers of one network, drawn from ``seed``.

    Keras gives a layer built without a seed one drawn from Python's global
    ``random`` generator. Another thread that draws from it while a network
    is built (a Dask worker compressing its messages, say) then changes the
    network's weights, so that a seeded fit is not repeatable. Each builder
    draws its layers' seeds from a private generator instead.

    Parameters
    ----------
    seed : int or None
        The network's seed; None leaves every seed to Keras (the global
        generator).

    Examples
    --------
    >>> from skfer.models._seeds import LayerSeeds
    >>> a, b = LayerSeeds(0), LayerSeeds(0)
    >>> a.next() == b.next(), LayerSeeds(None).next()
    (True, None)
    >>> a.initializer("he_normal").get_config()["seed"] == b.initializer("he_normal").get_config()["seed"]
    True
    """

    def __init__(self, seed):
        self._rng = None if seed is None else random.Random(seed)

    def next(self):
        """The next layer's seed (None without a network seed)."""
        return None if self._rng is None else self._rng.randint(1, 10**9)

    def initializer(self, identifier):
        """The initializer ``identifier`` (a name or an instance) with the next seed, if it takes one.

        A name is made with its seed at once: ``keras.initializers.get(name)``
        would first draw a default seed from Python's global generator.
        """
        if self._rng is None:
            return keras.initializers.get(identifier)
        if isinstance(identifier, str):
            try:
                return keras.initializers.get({"class_name": identifier, "config": {"seed": self.next()}})
            except TypeError:  # an initializer without randomness (zeros, ones, ...)
                return keras.initializers.get(identifier)
        config = identifier.get_config()
        if "seed" not in config:
            return identifier
        return type(identifier).from_config({**config, "seed": self.next()})
