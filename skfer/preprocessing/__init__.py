"""Transformers that turn FER2013 pixel strings and face arrays into model input."""

from ._faces import Face, FaceDetector
from ._normalizer import PixelNormalizer
from ._pixels import PixelStringTransformer, to_pixel_array

__all__ = ["Face", "FaceDetector", "PixelNormalizer", "PixelStringTransformer", "to_pixel_array"]
