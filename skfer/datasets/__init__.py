"""Dataset loaders."""

from ._fer2013 import find_fer2013, get_data_home, load_fer2013
from ._image_folder import load_image_folder

#: Names whose modules import Keras, loaded on first use so that importing
#: the loaders does not start a deep learning backend.
_KERAS_NAMES = {"FaceFolderDataset": "_face_dataset"}

__all__ = ["FaceFolderDataset", "find_fer2013", "get_data_home", "load_fer2013", "load_image_folder"]


def __getattr__(name):
    if name in _KERAS_NAMES:
        import importlib

        module = importlib.import_module(f".{_KERAS_NAMES[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return __all__
