"""skfer: facial emotion recognition as a scikit-learn citizen."""

from ._classifier import FERClassifier
from ._constants import EMOTIONS
from ._pipeline import FERPipeline, make_fer_pipeline
from ._predict import predict_images
from .datasets import load_fer2013
from .preprocessing import FaceDetector, PixelNormalizer, PixelStringTransformer
from .pretrained import load_pretrained
from .reporting import MulticlassROCDisplay, TrainingHistoryDisplay

__version__ = "0.1.0.dev0"

__all__ = [
    "EMOTIONS",
    "FERClassifier",
    "FERPipeline",
    "FaceDetector",
    "MulticlassROCDisplay",
    "PixelNormalizer",
    "PixelStringTransformer",
    "TrainingHistoryDisplay",
    "load_fer2013",
    "load_pretrained",
    "make_fer_pipeline",
    "predict_images",
]
