"""The 8-bit ONNX Runtime engine of ``FERClassifier(predict_dtype="int8")``.

It is made from the fitted network when a fit ends, calibrated on that
fit's faces, and kept with the classifier through pickling as the ONNX
file's bytes, with a fingerprint of the weights it was made from: weights
changed later (``model_.set_weights``, ``load_weights``) are noticed before
the next prediction. Making one needs tf2onnx and onnx;
running one needs onnxruntime only (all three come with skfer).
"""

import json
import tempfile
from pathlib import Path

import keras
import numpy as np

from ._onnx import _CLASSES, _CLASSIFIER_INPUT, INPUT, OUTPUT, _keras_graph, _name_output_and_describe, _quantize_int8, _require

#: The ``predict_dtype`` that predicts with this engine.
INT8 = "int8"
#: Faces, spread evenly over a fit's data, that set the 8-bit ranges.
CALIBRATION_FACES = 512


def check_engine_packages():
    """Raise an ImportError naming the package if an int8 engine cannot be made here (an install without dependencies).

    Examples
    --------
    >>> from skfer.inference._engine import check_engine_packages
    >>> check_engine_packages()  # doctest: +SKIP
    """
    for module in ("onnxruntime", "onnx", "tf2onnx"):
        _require(module, 'FERClassifier(predict_dtype="int8")')


def calibration_sample(X, n=CALIBRATION_FACES):
    """``n`` rows of ``X`` spread evenly over it (all of them if fewer): the faces that calibrate 8-bit ranges.

    Examples
    --------
    >>> import numpy as np
    >>> from skfer.inference._engine import calibration_sample
    >>> calibration_sample(np.zeros((2000, 2304))).shape
    (512, 2304)
    >>> calibration_sample(np.array(["0 0", "1 1", "2 2", "3 3"]), n=2).tolist()
    ['0 0', '2 2']
    """
    X = np.asarray(X)
    return X[:: max(1, len(X) // n)][:n]


#: Knuth's odd 32-bit multiplier: each 32-bit word of a weight is multiplied by an odd number
#: that depends on its position, so changing or moving any value changes the fingerprint.
_MULTIPLIER = 2654435761


def _position_factors(size):
    return ((2 * np.arange(size, dtype=np.uint64) + 1) * _MULTIPLIER % 2**32).astype(np.uint32)


def _numpy_words(array):
    array = np.ascontiguousarray(array).ravel()
    return array.view(np.uint32) if array.dtype.itemsize % 4 == 0 else array.view(np.uint8).astype(np.uint32)


class WeightsFingerprint:
    """A fingerprint of every weight of ``model``, read from its live variables on each call.

    For each weight, the sum modulo 2**32 of its 32-bit words, each
    multiplied by an odd factor of its position: odd factors are invertible
    modulo 2**32, so changing any single value of any weight always changes
    it, and moving values about almost always does.
    On the TensorFlow backend it runs as one XLA-compiled pass over the
    variables (no copy of the weights to NumPy; compiled on the first call),
    which keeps the check before every 8-bit prediction cheap; other backends read the weights
    with NumPy. The same weights give the same fingerprint on either path.

    Parameters
    ----------
    model : keras.Model
        The network whose weights are read.

    Examples
    --------
    >>> import keras, numpy as np
    >>> from skfer.inference._engine import WeightsFingerprint
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    >>> fingerprint = WeightsFingerprint(model)
    >>> before = fingerprint()
    >>> kernel, bias = model.get_weights()
    >>> model.set_weights([kernel, bias + np.float32([0, 1e-6])])
    >>> fingerprint() == before
    False
    """

    def __init__(self, model):
        self.model = model
        self._factors = [
            _position_factors(_numpy_words(keras.ops.convert_to_numpy(v)).size) for v in model.weights
        ]
        tensorflow = keras.backend.backend() == "tensorflow" and model.weights
        self._graph = self._tensorflow_graph() if tensorflow else None

    def _tensorflow_graph(self):
        import tensorflow as tf

        def words(variable):
            flat = tf.reshape(variable, [-1])
            if flat.dtype.size % 4:
                return tf.cast(tf.reshape(tf.bitcast(flat, tf.uint8), [-1]), tf.uint32)
            return tf.reshape(tf.bitcast(flat, tf.uint32), [-1])

        variables, factors = self.model.weights, [tf.constant(k) for k in self._factors]

        @tf.function(jit_compile=True)  # one fused pass over the weights (XLA)
        def graph():
            return tf.stack([
                tf.reduce_sum(words(v.value) * k) for v, k in zip(variables, factors)
            ])

        # The traced graph itself: called directly, it skips tf.function's matching of
        # the call to a trace (hashing each captured variable): a fifth to a third of the check's time.
        return graph.get_concrete_function()

    def __call__(self):
        """The fingerprint of the weights as they are now: a tuple of ints, one per weight."""
        if self._graph is not None:
            return tuple(int(word) for word in self._graph().numpy())
        return self._from_numpy()

    def _from_numpy(self):
        """The same fingerprint computed from NumPy copies of the weights (any backend)."""
        return tuple(
            int(np.sum(_numpy_words(keras.ops.convert_to_numpy(v)) * k, dtype=np.uint32))
            for v, k in zip(self.model.weights, self._factors)
        )


class Int8Engine:
    """A fitted network as an 8-bit ONNX Runtime session: classifier input in, probabilities out.

    Parameters
    ----------
    onnx_bytes : bytes
        An ONNX file written by :func:`~skfer.export_onnx` for a classifier
        alone (input ``"pixels"``, output ``"probabilities"``).
    weights : tuple of int, default=None
        :class:`WeightsFingerprint` of the network it was made from (see :meth:`bind`).

    Attributes
    ----------
    classes : list
        The classes stored in the file, in the order of its outputs.
    metadata : dict of str to str
        The file's metadata (skfer's keys and any ``metadata`` it was made with).

    Examples
    --------
    >>> import numpy as np
    >>> from skfer import FERClassifier
    >>> from skfer.inference._engine import Int8Engine
    >>> X, y = np.random.default_rng(0).random((16, 2304), np.float32), np.arange(16) % 2
    >>> clf = FERClassifier(architecture__filters=(4,), architecture__dense_units=8, dropout=0.1).initialize(X, y)
    >>> engine = Int8Engine.from_classifier(clf, X)  # doctest: +SKIP
    >>> engine.predict_on_batch(X).shape  # doctest: +SKIP
    (16, 2)
    """

    def __init__(self, onnx_bytes, weights=None):
        self.onnx_bytes = bytes(onnx_bytes)
        self.weights = weights
        self._start()

    def _start(self):
        ort = _require("onnxruntime", 'predict_dtype="int8"')
        self._session = ort.InferenceSession(self.onnx_bytes, providers=["CPUExecutionProvider"])
        self.metadata = dict(self._session.get_modelmeta().custom_metadata_map)
        self.classes = json.loads(self.metadata[_CLASSES])
        self._fingerprint = None  # the WeightsFingerprint of the last network checked

    @classmethod
    def from_classifier(cls, classifier, faces, metadata=None):
        """Convert ``classifier``'s network (no ``tta``) and calibrate its 8-bit ranges on ``faces``.

        Parameters
        ----------
        classifier : FERClassifier
            Fitted.
        faces : ndarray of shape (n_samples, 2304)
            Faces as the classifier takes them (normalized); a sample of
            :data:`CALIBRATION_FACES` of them, spread evenly, is used.
        metadata : dict of str to str, default=None
            More metadata for the file (e.g. the hash of the weights it was made from).

        Returns
        -------
        Int8Engine
            The engine.
        """
        check_engine_packages()  # fit checks before training too; this is for direct callers
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "network.onnx"
            network = _keras_graph(classifier, None, tta=None)
            network.export(str(path), format="onnx", verbose=False)
            _name_output_and_describe(path, np.asarray(classifier.classes_).tolist(), _CLASSIFIER_INPUT, metadata)
            _quantize_int8(path, np.ascontiguousarray(calibration_sample(faces), dtype=np.float32))
            engine = cls(path.read_bytes())
        engine.bind(classifier.model_)
        return engine

    def bind(self, model):
        """Note ``model``'s weights, as they are now, as those this engine was made from.

        Parameters
        ----------
        model : keras.Model
            The network the engine was converted from.
        """
        self._fingerprint = WeightsFingerprint(model)
        self.weights = self._fingerprint()

    def made_from(self, model):
        """Whether ``model``'s weights, as they are now, are those this engine was made from.

        The fingerprint is read afresh on each call (from a graph kept for
        ``model``, cheap next to one face's prediction).
        """
        if self.weights is None:
            return False
        if self._fingerprint is None or self._fingerprint.model is not model:
            self._fingerprint = WeightsFingerprint(model)
        return self._fingerprint() == self.weights

    def predict_on_batch(self, X):
        """Probabilities of faces ``X`` (n, 2304) float32, read by the output's name.

        Parameters
        ----------
        X : ndarray of shape (n_samples, 2304)
            Classifier input.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Probabilities.
        """
        (proba,) = self._session.run([OUTPUT], {INPUT: np.ascontiguousarray(X, dtype=np.float32)})
        if proba.shape != (len(X), len(self.classes)):
            raise RuntimeError(
                f"The int8 engine gave probabilities of shape {proba.shape} for {len(X)} faces "
                f"and {len(self.classes)} classes."
            )
        return proba

    def __getstate__(self):
        return {"onnx_bytes": self.onnx_bytes, "weights": self.weights}

    def __setstate__(self, state):
        self.onnx_bytes = state["onnx_bytes"]
        self.weights = state.get("weights")
        self._start()
