"""Losses and the accuracy metric for integer-labelled faces, with a teacher's probabilities where given."""

import keras
from keras import ops


def _labels_and_teacher(y_true):
    """Split targets into integer labels and, where present, a teacher's probabilities.

    Targets are labels of shape (batch,) or (batch, 1), or labels with a
    teacher's probabilities in the columns after them, (batch, 1 + n_classes).
    """
    if len(y_true.shape) == 2 and y_true.shape[-1] > 1:
        return ops.cast(y_true[:, 0], "int32"), y_true[:, 1:]
    return ops.reshape(ops.cast(y_true, "int32"), (-1,)), None


@keras.saving.register_keras_serializable(package="skfer")
class SmoothedSparseCrossentropy(keras.losses.Loss):
    """Cross-entropy of integer labels against softmax output, with label smoothing and a teacher.

    Keras' ``SparseCategoricalCrossentropy`` has no label smoothing; this
    loss one-hot encodes the integer labels and smooths them: the true class
    gets ``1 - label_smoothing + label_smoothing / n_classes``, every other
    class ``label_smoothing / n_classes``. With ``label_smoothing=0`` it equals
    the sparse categorical cross-entropy.

    Targets with a teacher's probabilities after the label (shape
    ``(batch, 1 + n_classes)``, as ``FERClassifier.fit(..., teacher_proba=P)``
    makes them) are distilled: the target is ``1 - teacher_weight`` times the
    smoothed label plus ``teacher_weight`` times the teacher's row (Hinton et
    al., 2015, at temperature 1).

    Parameters
    ----------
    label_smoothing : float, default=0.1
        Probability mass spread evenly over all classes, in [0, 1).
    teacher_weight : float, default=0.0
        Share of the target taken from the teacher's probabilities, in [0, 1],
        where the targets carry them.
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
    >>> teacher = np.array([[0, 0.5, 0.5], [1, 0.5, 0.5]], dtype="float32")  # label, then the teacher's row
    >>> distilled = SmoothedSparseCrossentropy(0.0, teacher_weight=1.0)(teacher, y_pred)
    >>> round(float(distilled), 4) == round(float(-np.log(y_pred).mean()), 4)
    True
    """

    def __init__(self, label_smoothing=0.1, teacher_weight=0.0, name="smoothed_sparse_crossentropy", **kwargs):
        if not 0 <= label_smoothing < 1:
            raise ValueError(f"label_smoothing must be in [0, 1); got {label_smoothing!r}.")
        if not 0 <= teacher_weight <= 1:
            raise ValueError(f"teacher_weight must be in [0, 1]; got {teacher_weight!r}.")
        super().__init__(name=name, **kwargs)
        self.label_smoothing = label_smoothing
        self.teacher_weight = teacher_weight

    def call(self, y_true, y_pred):
        n_classes = ops.shape(y_pred)[-1]
        labels, teacher = _labels_and_teacher(y_true)
        target = ops.one_hot(labels, n_classes, dtype=y_pred.dtype)
        target = target * (1 - self.label_smoothing) + self.label_smoothing / n_classes
        if teacher is not None:
            target = (1 - self.teacher_weight) * target + self.teacher_weight * ops.cast(teacher, y_pred.dtype)
        return keras.losses.categorical_crossentropy(target, y_pred)

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing,
                "teacher_weight": self.teacher_weight}


def _label_accuracy(y_true, y_pred):
    labels, _ = _labels_and_teacher(y_true)
    return ops.cast(ops.equal(labels, ops.cast(ops.argmax(y_pred, axis=-1), "int32")), "float32")


@keras.saving.register_keras_serializable(package="skfer")
class LabelAccuracy(keras.metrics.MeanMetricWrapper):
    """Accuracy of softmax output against integer labels, with or without a teacher's columns after them.

    Keras' ``"accuracy"`` would read labels followed by a teacher's
    probabilities as one-hot rows; this metric reads the label column only.

    Parameters
    ----------
    name : str, default="accuracy"
        Name of the metric (the history's ``accuracy`` and ``val_accuracy``).
    dtype : str, default=None
        Dtype of the metric's result.

    Examples
    --------
    >>> import numpy as np
    >>> from skfer.models import LabelAccuracy
    >>> y_pred = np.array([[0.9, 0.1], [0.6, 0.4]], dtype="float32")
    >>> metric = LabelAccuracy()
    >>> metric.update_state(np.array([[0, 0.2, 0.8], [1, 0.5, 0.5]], dtype="float32"), y_pred)
    >>> float(metric.result())
    0.5
    """

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(_label_accuracy, name=name, dtype=dtype)
        self._direction = "up"  # higher is better: callbacks with mode="auto" monitor it as Keras' "accuracy"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}
