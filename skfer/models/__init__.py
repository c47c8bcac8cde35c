"""Keras 3 model builders, layers and losses (backend-agnostic)."""

from ._augmentation import FaceCrop, RandomAffine, augmentation_layers
from ._dcnn import build_dcnn
from ._losses import SmoothedSparseCrossentropy
from ._saving import load_model

__all__ = [
    "FaceCrop",
    "RandomAffine",
    "SmoothedSparseCrossentropy",
    "augmentation_layers",
    "build_dcnn",
    "load_model",
]
