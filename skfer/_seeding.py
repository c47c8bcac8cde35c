"""Seeded fits that leave the process-wide random generators as they were."""

import contextlib
import numbers
import random

import numpy as np
from sklearn.utils import check_random_state


def seed_from(random_state):
    """The integer seed of ``random_state`` (an int, a RandomState or None).

    Examples
    --------
    >>> import numpy as np
    >>> from skfer._seeding import seed_from
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


@contextlib.contextmanager
def seeded(random_state):
    """Seed Keras (weights, dropout, augmentation, shuffling) for the block.

    Keras draws its default seeds from Python's and NumPy's global
    generators, so ``keras.utils.set_random_seed`` reseeds both; their states
    are saved before and restored after the block, so the caller's global
    generators continue exactly as if no fit had run. With
    ``random_state=None`` nothing is seeded.

    Examples
    --------
    >>> import numpy as np
    >>> from skfer._seeding import seeded
    >>> np.random.seed(1); expected = np.random.rand()
    >>> np.random.seed(1)
    >>> with seeded(0):
    ...     _ = np.random.rand()
    >>> bool(np.random.rand() == expected)
    True
    """
    seed = seed_from(random_state)
    if seed is None:
        yield
        return
    import keras

    python_state, numpy_state = random.getstate(), np.random.get_state()
    keras.utils.set_random_seed(seed)
    try:
        yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)


def reseed_resumed(model, random_state, epoch):
    """Give a model loaded from a checkpoint new random streams for resuming at ``epoch``.

    Keras saves no seed-generator state with a model: a model loaded from a
    checkpoint would draw the first epoch's dropout masks, crops and flips
    again, and the seeded shuffling would repeat the first epochs' order, so
    the resumed epochs replayed epochs already trained. Here every seed
    generator of ``model`` (and Keras' global seed, which orders the batches)
    gets a seed derived from ``random_state`` and ``epoch``, so that
    resuming the same checkpoint twice gives the same fit; with
    ``random_state=None`` the seeds are fresh and the global generators are
    left alone. Call it inside :func:`seeded`, which restores Python's and
    NumPy's generators afterwards.

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
    >>> from skfer._seeding import reseed_resumed
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
    if seed is not None:
        import keras

        keras.utils.set_random_seed(int(rng.integers(2**31 - 1)))
    for variable in model.variables:
        if variable.path.endswith("seed_generator_state"):
            variable.assign(np.array([rng.integers(2**31 - 1), 0], dtype=variable.dtype))
