"""Keras 3 model builders (backend-agnostic)."""

from ._augmentation import augmentation_layers
from ._dcnn import build_dcnn

__all__ = ["augmentation_layers", "build_dcnn"]
