"""Export a fitted network to ONNX, and predict with the file without TensorFlow.

Only :func:`export_onnx` imports Keras (and tf2onnx, with the TensorFlow
backend); :class:`ONNXEmotionPredictor` needs onnxruntime, NumPy and
scikit-learn only.
"""

import json
import warnings
from numbers import Integral
from os import PathLike
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.pipeline import Pipeline
from .._validation import Interval, Options, check_params, validate_params
from sklearn.utils.validation import check_is_fitted

from .._constants import IMAGE_SIZE, N_PIXELS
from ..preprocessing import PixelNormalizer, PixelStringTransformer, to_pixel_array

#: Names of the graph's input and output, and of the metadata keys skfer writes.
INPUT, OUTPUT = "pixels", "probabilities"
_CLASSES, _TAKES, _PRECISION = "skfer.classes", "skfer.input", "skfer.precision"
#: What the input of an exported file holds: pixel values, or the classifier's own input.
_PIXELS, _CLASSIFIER_INPUT = "pixels 0-255", "classifier input"


def _require(module, purpose):
    """Import ``module``, a dependency of skfer that an install without dependencies may lack."""
    try:
        return __import__(module)
    except ImportError:
        raise ImportError(
            f"{purpose} needs the {module} package, a dependency of skfer that is not installed "
            f"here: pip install {module}."
        ) from None


def _split(estimator):
    """The fitted classifier and the normalizer in front of it (None), or raise naming the step."""
    if not isinstance(estimator, Pipeline):
        check_is_fitted(estimator, "model_")
        return estimator, None, _CLASSIFIER_INPUT
    *head, (_, classifier) = estimator.steps
    normalizer = None
    for name, step in head:
        if isinstance(step, PixelNormalizer):
            normalizer = step
        elif not isinstance(step, PixelStringTransformer) and step not in (None, "passthrough"):
            raise ValueError(
                f"Cannot export the pipeline step {name!r} ({type(step).__name__}): only "
                "PixelStringTransformer and PixelNormalizer may come before the classifier."
            )
    check_is_fitted(classifier, "model_")
    return classifier, normalizer, _PIXELS


def _keras_graph(classifier, normalizer, tta):
    """The classifier's float32 inference copy, with the normalizer in front as a Rescaling layer.

    Test-time augmentation ``tta`` (the classifier's, for an exported file,
    so that it predicts what the classifier predicts) is part of the graph;
    one the graph cannot hold raises.
    """
    import keras

    from ..models._inference import inference_model

    network = inference_model(classifier.model_, "float32")
    inputs = keras.Input(shape=(N_PIXELS,), name=INPUT)
    x = inputs
    if normalizer is not None:
        check_is_fitted(normalizer)
        scale = 1.0 / float(normalizer.scale_)
        x = keras.layers.Rescaling(scale, offset=-float(normalizer.mean_) * scale)(x)
    if tta is None:
        outputs = network(x)
    elif tta == "flip":  # the mean over each face and its mirror image, as predict_proba
        faces = keras.ops.reshape(x, (-1, IMAGE_SIZE, IMAGE_SIZE))
        mirrored = keras.ops.reshape(keras.ops.flip(faces, axis=2), (-1, N_PIXELS))
        outputs = keras.layers.Average()([network(x), network(mirrored)])
    else:
        raise ValueError(
            f"export_onnx cannot put tta={tta!r} into the ONNX graph; only tta='flip' or "
            "None. Set the classifier's tta to one of them first (set_params(tta='flip')), or "
            "predict with skfer itself."
        )
    model = keras.Model(inputs, outputs, name="skfer")
    model(np.zeros((1, N_PIXELS), dtype=np.float32))  # export needs a model that was called
    return model


def _name_output_and_describe(path, classes, takes, extra=None):
    """Rename the graph's output to ``probabilities`` and store skfer's metadata (and ``extra``) in the file."""
    import onnx

    model = onnx.load(str(path))
    if len(model.graph.output) != 1:
        raise RuntimeError(
            f"tf2onnx wrote {len(model.graph.output)} outputs to {path} "
            f"({[o.name for o in model.graph.output]}); skfer expects one, the probabilities."
        )
    old = model.graph.output[0].name
    for node in model.graph.node:
        node.output[:] = [OUTPUT if name == old else name for name in node.output]
    model.graph.output[0].name = OUTPUT
    from .. import __version__

    meta = {
        _CLASSES: json.dumps(classes), _TAKES: takes, _PRECISION: "float32",
        "skfer.version": __version__, **(extra or {}),
    }
    for key, value in meta.items():
        model.metadata_props.add(key=key, value=value)
    model.doc_string = "skfer emotion classifier: faces (n, 2304) -> probabilities (n, classes)."
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def _calibration_faces(estimator, calibration):
    """``calibration`` as the exported file's input: pixel arrays for a pipeline, else as given."""
    if calibration is None:
        raise ValueError(
            'quantize="int8" needs calibration faces: calibration=X, a few hundred faces '
            "like those the model will see (e.g. FER2013 Training faces)."
        )
    if isinstance(estimator, Pipeline):
        faces = to_pixel_array(calibration)
    else:
        faces = np.asarray(calibration, dtype=np.float32).reshape(len(calibration), -1)
    if faces.ndim != 2 or faces.shape[1] != N_PIXELS or len(faces) == 0:
        raise ValueError(
            f"calibration must hold faces of {N_PIXELS} pixels; got shape {np.shape(calibration)}."
        )
    return faces.astype(np.float32)


def _quantize_int8(path, faces, batch_size=64):
    """Rewrite the float32 file at ``path`` with 8-bit weights and activations, calibrated on ``faces``."""
    import tempfile

    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    # Batches of one size: onnxruntime's percentile calibrator stacks them, and fails on a
    # shorter last batch. The few faces past the last whole batch are left out.
    n_batches = -(-len(faces) // batch_size)
    size = len(faces) // n_batches

    class _Batches(CalibrationDataReader):
        def __init__(self):
            self._batches = (faces[i * size : (i + 1) * size] for i in range(n_batches))

        def get_next(self):
            batch = next(self._batches, None)
            return None if batch is None else {INPUT: batch}

    metadata = {prop.key: prop.value for prop in onnx.load(str(path)).metadata_props}
    with tempfile.TemporaryDirectory() as folder:
        prepared = Path(folder) / "prepared.onnx"
        quant_pre_process(str(path), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared), str(path), _Batches(), quant_format=QuantFormat.QDQ, per_channel=True,
            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
            # 7-bit weights: x86 CPUs without VNNI (AVX2 only) multiply uint8 by int8 with
            # 16-bit intermediate sums that saturate on full-range weights.
            reduce_range=True,
            # Ranges that leave out the top 0.001% of each activation's values: on the
            # default model 0.03 point more PublicTest accuracy than the plain min-max.
            calibrate_method=CalibrationMethod.Percentile, extra_options={"CalibPercentile": 99.999},
            # The softmax in float: 8-bit probabilities step by 1/255 and rows miss 1 by 0.01.
            nodes_to_exclude=[node.name for node in onnx.load(str(prepared)).graph.node if node.op_type == "Softmax"],
        )
    model = onnx.load(str(path))
    del model.metadata_props[:]
    for key, value in {**metadata, _PRECISION: "int8"}.items():
        model.metadata_props.add(key=key, value=value)
    onnx.save(model, str(path))


@validate_params(
    {
        "estimator": "no_validation",
        "path": [str, PathLike],
        "opset": [Interval(Integral, 13, None, closed="left"), None],
        "quantize": [Options({"int8"}), None],
        "calibration": ["array-like", None],
    },
)
def export_onnx(estimator, path, *, opset=None, quantize=None, calibration=None):
    """Write a fitted pipeline's or FERClassifier's network to an ONNX file.

    The file holds the network's prediction copy (BatchNorm folded into the
    convolutions, Dropout and augmentation left out) in float32 and, for a
    pipeline, its :class:`~skfer.PixelNormalizer` as the first operation, so
    it takes faces as pixel values 0-255. The classifier's ``tta="flip"``
    is part of the graph (the mean over each face and its mirror image), so
    the file predicts what the classifier predicts. The classes and what
    the input holds are stored in the file's metadata. :class:`ONNXEmotionPredictor`
    runs it with onnxruntime, without TensorFlow; so can any ONNX runtime,
    with the input ``"pixels"`` of shape (n, 2304), float32, and the output
    ``"probabilities"`` of shape (n, n_classes).

    Needs Keras with the TensorFlow backend (and tf2onnx and onnx, which
    come with skfer).

    Parameters
    ----------
    estimator : FERPipeline or FERClassifier
        A fitted pipeline whose last step is a FERClassifier and whose other
        steps are :class:`~skfer.PixelStringTransformer` and
        :class:`~skfer.PixelNormalizer` (e.g. from
        :func:`~skfer.make_fer_pipeline` or
        :func:`~skfer.pretrained.load_pretrained`), or a fitted
        FERClassifier alone, whose file then takes what the classifier
        takes (normalized faces).
    path : str or path-like
        The ONNX file to write.
    opset : int, default=None
        ONNX opset version; tf2onnx's default if None.
    quantize : {"int8"}, default=None
        ``"int8"`` stores 8-bit weights (7 bits of range, per output
        channel, so that CPUs without VNNI do not saturate) and computes
        with 8-bit activations, their ranges calibrated on ``calibration``
        (onnxruntime's static quantization): several times faster on CPUs
        with AVX512-VNNI or AVX-VNNI, a file about a quarter of the size,
        probabilities that differ from float32's in the second decimal.
        Measure its accuracy before you deploy it. None keeps float32.
    calibration : array-like, default=None
        Faces that set the 8-bit ranges, as the estimator takes them (pixel
        strings or arrays for a pipeline): a few hundred faces like those
        the model will see, e.g. FER2013 Training faces. Needed with
        ``quantize="int8"``.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    ValueError
        If a pipeline step cannot be exported, the classifier's ``tta`` is
        ``"ten_crop"`` (which the graph does not hold), or ``quantize="int8"``
        comes without faces to calibrate it.
    sklearn.exceptions.NotFittedError
        If the classifier is not fitted.
    ImportError
        If tf2onnx or onnx is missing.

    See Also
    --------
    ONNXEmotionPredictor : Predict with the exported file.

    Examples
    --------
    >>> from skfer import export_onnx, ONNXEmotionPredictor
    >>> from skfer.pretrained import load_pretrained
    >>> export_onnx(load_pretrained(), "fer2013.onnx")  # doctest: +SKIP
    PosixPath('fer2013.onnx')
    >>> ONNXEmotionPredictor("fer2013.onnx").fit().classes_[:3]  # doctest: +SKIP
    array(['Angry', 'Disgust', 'Fear'], dtype='<U8')
    """
    _require("tf2onnx", "export_onnx")
    _require("onnx", "export_onnx")
    classifier, normalizer, takes = _split(estimator)
    faces = _calibration_faces(estimator, calibration) if quantize == "int8" else None
    model = _keras_graph(classifier, normalizer, classifier.tta)
    path = Path(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf2onnx's NumPy 2 and protobuf deprecations
        model.export(str(path), format="onnx", verbose=False, opset_version=opset)
    _name_output_and_describe(path, np.asarray(classifier.classes_).tolist(), takes)
    if faces is not None:
        _require("onnxruntime", 'export_onnx(quantize="int8")')
        _quantize_int8(path, faces)
    return path


class ONNXEmotionPredictor(ClassifierMixin, BaseEstimator):
    """Predict emotions with an ONNX file from :func:`export_onnx`, without TensorFlow.

    It runs the file with onnxruntime and takes what the exported pipeline
    took: FER2013 pixel strings or faces of shape (n, 2304), (n, 48, 48) or
    (n, 48, 48, 1) with values 0-255, checked and parsed by
    :func:`~skfer.preprocessing.to_pixel_array` (for a file exported from a
    classifier alone, that classifier's input). Its probabilities equal the
    Keras model's to float32 rounding (within 1e-5). It has ``classes_`` and
    ``predict_proba``, so it stands in for a fitted pipeline in
    :func:`~skfer.predict_images` and :func:`~skfer.stream_emotions`.
    Importing and using it does not import TensorFlow or Keras.

    ``fit`` loads the file; nothing is learned. A fitted predictor pickles
    with the file's bytes, so the pickle predicts after the file is gone.

    Parameters
    ----------
    path : str or path-like
        The ONNX file written by :func:`export_onnx` (or ``skfer export``).
    n_threads : int, default=None
        Threads onnxruntime uses within an operation; its default (one per
        core) if None.
    batch_size : int, default=256
        Faces per run of the network.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The classes, as the exported classifier had them.
    session_ : onnxruntime.InferenceSession
        The loaded network.
    precision_ : {"float32", "int8"}
        How the file computes (see ``quantize`` of :func:`export_onnx`).

    See Also
    --------
    export_onnx : Write the file.

    Examples
    --------
    >>> import numpy as np
    >>> from skfer import ONNXEmotionPredictor
    >>> predictor = ONNXEmotionPredictor("fer2013.onnx").fit()  # doctest: +SKIP
    >>> predictor.predict(np.full((2, 48, 48), 128, dtype=np.uint8))  # doctest: +SKIP
    array(['Neutral', 'Neutral'], dtype='<U8')
    """

    _parameter_constraints = {
        "path": [str, PathLike],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, path, *, n_threads=None, batch_size=256):
        self.path = path
        self.n_threads = n_threads
        self.batch_size = batch_size

    def fit(self, X=None, y=None):
        """Load the ONNX file and read its classes; nothing is learned.

        Parameters
        ----------
        X : None
            Ignored.
        y : None
            Ignored.

        Returns
        -------
        self : ONNXEmotionPredictor
            The predictor, ready to predict.

        Raises
        ------
        ValueError
            If the file does not exist or was not written by :func:`export_onnx`.
        """
        check_params(self.get_params(deep=False), self._parameter_constraints, type(self).__name__)
        ort = _require("onnxruntime", "ONNXEmotionPredictor")
        path = Path(self.path)
        if not path.is_file():
            raise ValueError(f"ONNX file {str(path)!r} does not exist.")
        onnx_bytes = path.read_bytes()
        session = self._start(onnx_bytes)
        meta = session.get_modelmeta().custom_metadata_map
        if _CLASSES not in meta or _TAKES not in meta:
            raise ValueError(
                f"{str(path)!r} has no skfer metadata ({_CLASSES!r}, {_TAKES!r}); write it "
                "with skfer.export_onnx or 'skfer export'."
            )
        inputs = {node.name: node.shape for node in session.get_inputs()}
        outputs = {node.name: node.shape for node in session.get_outputs()}
        if INPUT not in inputs or OUTPUT not in outputs:
            raise ValueError(
                f"{str(path)!r} has inputs {inputs} and outputs {outputs} in onnxruntime "
                f"{ort.__version__}; skfer's files have the input {INPUT!r} and the output {OUTPUT!r}."
            )
        self.session_ = session
        self._onnx_bytes = onnx_bytes  # what the session runs, so that a pickle holds it (not the path)
        self.classes_ = np.asarray(json.loads(meta[_CLASSES]))
        self.input_ = meta[_TAKES]
        self.precision_ = meta.get(_PRECISION, "float32")
        return self

    def _start(self, onnx_bytes):
        """An onnxruntime session of the file's bytes, with ``n_threads``."""
        ort = _require("onnxruntime", "ONNXEmotionPredictor")

        options = ort.SessionOptions()
        if self.n_threads is not None:
            options.intra_op_num_threads = self.n_threads
        return ort.InferenceSession(onnx_bytes, options, providers=["CPUExecutionProvider"])

    def __getstate__(self):
        # A session cannot be pickled: the pickle keeps the file's bytes, and loading it starts a
        # new session of them (the file at ``path`` may since have changed or gone).
        return {key: value for key, value in super().__getstate__().items() if key != "session_"}

    def __setstate__(self, state):
        super().__setstate__(state)
        if "_onnx_bytes" in state:
            self.session_ = self._start(state["_onnx_bytes"])

    def _faces(self, X):
        if self.input_ == _PIXELS:
            return to_pixel_array(X)
        X = np.asarray(X, dtype=np.float32)
        if X.ndim < 2 or X[0].size != N_PIXELS:
            raise ValueError(f"Faces must have {N_PIXELS} values each; got X of shape {X.shape}.")
        return X.reshape(len(X), N_PIXELS)

    def predict_proba(self, X):
        """Probability of each class for each face.

        Parameters
        ----------
        X : array-like
            Pixel strings of shape (n_samples,), or faces of shape
            (n_samples, 2304), (n_samples, 48, 48) or (n_samples, 48, 48, 1)
            with values 0-255.

        Returns
        -------
        ndarray of shape (n_samples, n_classes), dtype float32
            Probabilities in the order of ``classes_``; rows sum to 1.
        """
        check_is_fitted(self, "session_")
        X = self._faces(X)
        size = self.batch_size
        batches = [self._run(X[i : i + size]) for i in range(0, len(X), size)]
        return np.concatenate(batches) if batches else np.empty((0, len(self.classes_)), np.float32)

    def _run(self, faces):
        """Probabilities of a batch, read by the output's name and checked by shape."""
        (proba,) = self.session_.run([OUTPUT], {INPUT: faces})
        if proba.shape != (len(faces), len(self.classes_)):
            import onnxruntime

            raise RuntimeError(
                f"{self.path} gave probabilities of shape {proba.shape} for {len(faces)} faces "
                f"and {len(self.classes_)} classes (onnxruntime {onnxruntime.__version__})."
            )
        return proba

    def predict(self, X):
        """The most probable class of each face.

        Parameters
        ----------
        X : array-like
            Faces, as in :meth:`predict_proba`.

        Returns
        -------
        ndarray of shape (n_samples,)
            Classes from ``classes_``.
        """
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.requires_fit = True
        return tags
