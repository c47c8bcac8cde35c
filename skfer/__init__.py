"""skfer: facial emotion recognition as a scikit-learn citizen.

``import skfer`` is quick and loads neither TensorFlow nor Keras: each public
name is imported from its module the first time it is used (scikit-learn's
lazy ``__getattr__`` pattern), so ``skfer --help`` and the data tools start
at once.
"""

import importlib

from ._constants import EMOTIONS

__version__ = "0.1.0.dev0"

#: Module of each public name, imported on first access.
_LAZY = {
    "Augmentation": ".estimator._augmentation",
    "FERClassifier": ".estimator._classifier",
    "FERPipeline": ".estimator._pipeline",
    "fit_dataset": ".estimator._fit_dataset",
    "make_fer_pipeline": ".estimator._pipeline",
    "predict_images": ".inference._photos",
    "stream_emotions": ".inference._stream",
    "FrameEmotions": ".inference._stream",
    "export_onnx": ".inference._onnx",
    "ONNXEmotionPredictor": ".inference._onnx",
    "load_fer2013": ".datasets",
    "FaceDetector": ".preprocessing",
    "PixelNormalizer": ".preprocessing",
    "PixelStringTransformer": ".preprocessing",
    "load_pretrained": ".pretrained",
    "load_pretrained_onnx": ".pretrained",
    "load_model": ".models",
    "MulticlassROCDisplay": ".reporting",
    "TrainingHistoryDisplay": ".reporting",
    "ReliabilityDisplay": ".reporting",
    "expected_calibration_error": ".reporting",
    "SaliencyDisplay": ".reporting",
}
_SUBPACKAGES = ("datasets", "experiments", "models", "preprocessing", "pretrained", "reporting")

__all__ = ["EMOTIONS", *sorted(_LAZY)]


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    if name in _SUBPACKAGES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return [*__all__, *_SUBPACKAGES, "__version__"]
