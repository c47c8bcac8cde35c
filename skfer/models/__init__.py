"""Keras 3 model builders, layers and losses (backend-agnostic)."""

from ._augmentation import FaceCrop, RandomAffine, RandomErasing, RandomPhotometric, augmentation_layers, crop_size
from ._dcnn import build_dcnn
from ._losses import LabelAccuracy, SmoothedSparseCrossentropy
from ._resnet import build_resnet
from ._saving import load_model
from ._vgg import build_vgg
from ._zoo import ARCHITECTURES, flops_per_image

__all__ = [
    "ARCHITECTURES",
    "FaceCrop",
    "LabelAccuracy",
    "crop_size",
    "RandomAffine",
    "RandomErasing",
    "RandomPhotometric",
    "SmoothedSparseCrossentropy",
    "augmentation_layers",
    "build_dcnn",
    "build_resnet",
    "build_vgg",
    "flops_per_image",
    "load_model",
]
