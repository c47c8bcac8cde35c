"""The FER2013 models shipped with skfer, loaded without any download.

``load_pretrained`` (Keras) is imported on first use, so that
``load_pretrained_onnx`` and the model cards load without TensorFlow.
"""

from ._cards import DEFAULT_MODEL, MODELS
from ._onnx_model import load_pretrained_onnx

__all__ = ["DEFAULT_MODEL", "MODELS", "load_pretrained", "load_pretrained_onnx"]


def __getattr__(name):
    if name == "load_pretrained":
        from ._load import load_pretrained

        return load_pretrained
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return __all__
