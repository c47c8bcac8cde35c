"""Training batches in an order drawn from the fit's seed and the epoch, never from a global generator."""

import math

import keras
import numpy as np


class EpochBatches(keras.utils.PyDataset):
    """The batches of one training set, shuffled anew each epoch from ``(seed, epoch)``.

    Keras shuffles arrays with TensorFlow's global generator, which a seeded
    fit would then have to reseed (changing the caller's draws) and which a
    resumed fit cannot put back where an uninterrupted fit had it. Here the
    order of epoch ``e`` depends on ``seed`` and ``e`` alone: a fit resumed
    at epoch ``e`` sees the batches the uninterrupted fit saw.

    Keras calls ``on_epoch_end`` once more than there are epochs (after
    reading the first batches to learn their shapes), so the epoch is not
    counted here: :meth:`callback` sets it at the start of every epoch.
    Give ``keras.Model.fit`` ``shuffle=False``, or Keras shuffles the
    batches' order again with a global generator.

    Parameters
    ----------
    X, y : ndarray
        The encoded faces and targets.
    sample_weight : ndarray or None
        Weight of each face; None for equal weights.
    batch_size : int
        Faces per batch (the last batch may be smaller).
    seed : int or None
        The fit's seed; None draws fresh orders (from the operating system).
    first_epoch : int, default=0
        The epoch the first pass over the batches is (a resumed fit's).

    Examples
    --------
    >>> import numpy as np
    >>> from skfer.estimator._batches import EpochBatches
    >>> X, y = np.arange(10.0)[:, None], np.arange(10)
    >>> batches = EpochBatches(X, y, None, batch_size=4, seed=0)
    >>> len(batches), batches[2][0].ravel().size
    (3, 2)
    >>> first = np.concatenate([batches[i][1] for i in range(3)])
    >>> batches.callback().on_epoch_begin(1)
    >>> second = np.concatenate([batches[i][1] for i in range(3)])
    >>> resumed = EpochBatches(X, y, None, batch_size=4, seed=0, first_epoch=1)
    >>> bool((first != second).any()), bool((np.concatenate([resumed[i][1] for i in range(3)]) == second).all())
    (True, True)
    """

    def __init__(self, X, y, sample_weight, batch_size, seed, first_epoch=0):
        super().__init__()
        self.X, self.y, self.sample_weight = X, y, sample_weight
        self.batch_size = batch_size
        self.seed = seed
        self.epoch = first_epoch
        self._order = self._draw()

    def _draw(self, epoch=None):
        n = len(self.X)
        epoch = self.epoch if epoch is None else epoch
        rng = np.random.default_rng(None if self.seed is None else [self.seed, epoch, 0x5B])
        return rng.permutation(n)

    def __len__(self):
        return math.ceil(len(self.X) / self.batch_size)

    def _rows(self, order, index):
        return np.sort(order[index * self.batch_size : (index + 1) * self.batch_size])

    def __getitem__(self, index):
        rows = self._rows(self._order, index)
        if self.sample_weight is None:
            return self.X[rows], self.y[rows]
        return self.X[rows], self.y[rows], self.sample_weight[rows]

    def tf_dataset(self, end_epoch):
        """The same batches, of every epoch from this one to ``end_epoch``, as one ``tf.data.Dataset``.

        TensorFlow gathers each batch itself, so no Python runs between
        steps; Keras reads a ``PyDataset`` through ``tf.data``'s generator
        bridge, which made training steps about twice as slow
        (``benchmarks/results/train_settings_zen3.md``). Give
        ``keras.Model.fit`` ``steps_per_epoch=len(self)``: the dataset runs
        on across epochs.

        Parameters
        ----------
        end_epoch : int
            The epoch after the last one.

        Returns
        -------
        tf.data.Dataset
            Batches of (faces, targets) or (faces, targets, sample weights).

        Examples
        --------
        >>> import numpy as np
        >>> from skfer.estimator._batches import EpochBatches
        >>> X, y = np.arange(10.0)[:, None], np.arange(10)
        >>> batches = EpochBatches(X, y, None, batch_size=4, seed=0)
        >>> from_tf = [b[1].numpy().tolist() for b in batches.tf_dataset(2)]
        >>> len(from_tf), from_tf[:3] == [batches[i][1].tolist() for i in range(3)]
        (6, True)
        """
        import tensorflow as tf

        epochs = range(self.epoch, max(end_epoch, self.epoch + 1))
        rows = np.stack([
            np.concatenate([self._rows(order, i) for i in range(len(self))])
            for order in (self._draw(epoch) for epoch in epochs)
        ]).astype(np.int32)
        arrays = tuple(tf.constant(a) for a in (self.X, self.y, self.sample_weight) if a is not None)
        size = self.batch_size
        return (
            tf.data.Dataset.from_tensor_slices(rows)
            .flat_map(lambda epoch_rows: tf.data.Dataset.from_tensor_slices(epoch_rows).batch(size))
            .map(lambda batch: tuple(tf.gather(a, batch) for a in arrays))
            .prefetch(2)
        )

    def callback(self):
        """A Keras callback that gives the batches the order of each epoch as it begins."""
        batches = self

        class BatchOrder(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                batches.epoch = epoch
                batches._order = batches._draw()

        return BatchOrder()
