"""Transformers that turn FER2013 pixel strings and face arrays into model input."""

from ._faces import Face, FaceDetector, UnreadableFileError, read_bgr
from ._normalizer import PixelNormalizer
from ._pixels import PixelStringTransformer, to_pixel_array

__all__ = [
    "Face", "FaceDetector", "PixelNormalizer", "PixelStringTransformer", "UnreadableFileError", "read_bgr",
    "to_pixel_array",
]
