"""Keras 3 model builders (backend-agnostic)."""

from ._augmentation import RandomAffine, augmentation_layers
from ._dcnn import build_dcnn

__all__ = ["RandomAffine", "augmentation_layers", "build_dcnn"]
