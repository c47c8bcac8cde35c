"""Dataset loaders."""

from ._fer2013 import get_data_home, load_fer2013

__all__ = ["get_data_home", "load_fer2013"]
