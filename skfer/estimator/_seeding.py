"""Explicit seeds for a fit: derived from ``random_state``, never set on a process-wide generator."""

import numbers

import numpy as np
from sklearn.utils import check_random_state


def seed_from(random_state):
    """The integer seed of ``random_state`` (an int, a RandomState or None).

    Examples
    --------
    >>> import numpy as np
    >>> from skfer.estimator._seeding import seed_from
    >>> seed_from(3), seed_from(None), seed_from(np.random.RandomState(0)) == seed_from(np.random.RandomState(0))
    (3, None, True)
    """
    if random_state is None:
        return None
    if isinstance(random_state, numbers.Integral):
        return int(random_state)
    # A copy, so that drawing the seed does not advance the caller's generator.
    state = check_random_state(random_state).get_state()
    copy = np.random.RandomState()
    copy.set_state(state)
    return int(copy.randint(np.iinfo(np.int32).max))


SEED_STATE = "seed_generator_state"


def seed_states(model):
    """The state of every seed generator of ``model`` (augmentation, dropout), by variable path.

    Keras saves no seed-generator state with a model, so checkpoints store
    these beside it and :func:`restore_seed_states` puts them back: a resumed
    fit then draws what the uninterrupted fit would have drawn.

    Examples
    --------
    >>> import keras
    >>> from skfer.estimator._seeding import restore_seed_states, seed_states
    >>> inputs = keras.Input((3,))
    >>> model = keras.Model(inputs, keras.layers.Dropout(0.5, seed=1)(inputs))
    >>> saved = seed_states(model)
    >>> _ = model(keras.ops.ones((2, 3)), training=True)  # draws, moving the state on
    >>> moved = seed_states(model) != saved
    >>> restore_seed_states(model, saved)
    >>> moved, seed_states(model) == saved
    (True, True)
    """
    return {key: np.asarray(variable.numpy()).tolist() for key, variable in _seed_variables(model)}


def _seed_variables(layer, prefix=""):
    """(key, variable) for each seed-generator state under ``layer``, keyed by layer names.

    Keras names seed generators with a process-wide counter, so the same
    network loaded from a file has other variable paths; layer names are
    the network's own and stay the same.
    """
    for child in getattr(layer, "layers", ()):
        key = f"{prefix}{child.name}"
        own = [v for v in child.variables if v.path.endswith(SEED_STATE)]
        if getattr(child, "layers", None):
            yield from _seed_variables(child, prefix=f"{key}/")
        else:
            yield from ((f"{key}:{i}", variable) for i, variable in enumerate(own))


def restore_seed_states(model, states):
    """Give ``model``'s seed generators the states :func:`seed_states` returned."""
    for key, variable in _seed_variables(model):
        if key in states:
            variable.assign(np.asarray(states[key], dtype=variable.dtype))


def reseed_resumed(model, random_state, epoch):
    """Give a model from a checkpoint without seed states new random streams for resuming at ``epoch``.

    Checkpoints written before they stored :func:`seed_states` hold none:
    a model loaded from one would draw the first epoch's dropout masks,
    crops and flips again. Here every seed generator of ``model`` gets a
    seed derived from ``random_state`` and ``epoch``, so that resuming the
    same checkpoint twice gives the same fit; with ``random_state=None`` the
    seeds are fresh.

    Parameters
    ----------
    model : keras.Model
        The model loaded from the checkpoint.
    random_state : int, RandomState instance or None
        The fit's seed.
    epoch : int
        Epochs trained before the checkpoint was written.

    Examples
    --------
    >>> import keras
    >>> from skfer.estimator._seeding import reseed_resumed
    >>> inputs = keras.Input((3,))
    >>> model = keras.Model(inputs, keras.layers.Dropout(0.5, seed=1)(inputs))
    >>> def state():
    ...     return model.layers[1].seed_generator.state.numpy().tolist()
    >>> first = state()
    >>> reseed_resumed(model, random_state=0, epoch=4)
    >>> resumed = state()
    >>> reseed_resumed(model, random_state=0, epoch=4)
    >>> resumed != first, resumed == state()
    (True, True)
    """
    seed = seed_from(random_state)
    rng = np.random.default_rng(None if seed is None else [seed, epoch])
    for variable in model.variables:
        if variable.path.endswith(SEED_STATE):
            variable.assign(np.array([rng.integers(2**31 - 1), 0], dtype=variable.dtype))
