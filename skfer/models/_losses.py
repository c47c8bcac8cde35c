"""Losses for integer-labelled faces."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="skfer")
class SmoothedSparseCrossentropy(keras.losses.Loss):
    """Cross-entropy of integer labels against softmax output, with label smoothing.

    Keras' ``SparseCategoricalCrossentropy`` has no label smoothing; this
    loss one-hot encodes the integer labels and smooths them: the true class
    gets ``1 - label_smoothing + label_smoothing / n_classes``, every other
    class ``label_smoothing / n_classes``. With ``label_smoothing=0`` it equals
    the sparse categorical cross-entropy.

    Parameters
    ----------
    label_smoothing : float, default=0.1
        Probability mass spread evenly over all classes, in [0, 1).
    name : str, default="smoothed_sparse_crossentropy"
        Name of the loss.
    **kwargs
        Passed to ``keras.losses.Loss`` (``reduction``, ``dtype``).

    Examples
    --------
    >>> import numpy as np
    >>> from skfer.models import SmoothedSparseCrossentropy
    >>> y_true, y_pred = np.array([0, 1]), np.array([[0.9, 0.1], [0.2, 0.8]], dtype="float32")
    >>> plain = SmoothedSparseCrossentropy(label_smoothing=0.0)(y_true, y_pred)
    >>> round(float(plain), 4) == round(float(-(np.log(0.9) + np.log(0.8)) / 2), 4)
    True
    >>> float(SmoothedSparseCrossentropy(0.1)(y_true, y_pred)) > float(plain)
    True
    """

    def __init__(self, label_smoothing=0.1, name="smoothed_sparse_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.label_smoothing = label_smoothing

    def call(self, y_true, y_pred):
        n_classes = ops.shape(y_pred)[-1]
        labels = ops.reshape(ops.cast(y_true, "int32"), (-1,))
        one_hot = ops.one_hot(labels, n_classes, dtype=y_pred.dtype)
        return keras.losses.categorical_crossentropy(
            one_hot, y_pred, label_smoothing=self.label_smoothing
        )

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing}
