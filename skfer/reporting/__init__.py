"""Displays and a metric: how a FER classifier trained, how well it separates emotions, where it looked and how far to trust its probabilities.

Confusion matrices and text reports come from scikit-learn itself:
:class:`sklearn.metrics.ConfusionMatrixDisplay` and
:func:`sklearn.metrics.classification_report` work on any fitted skfer
pipeline.
"""

from ._calibration import expected_calibration_error
from ._history import TrainingHistoryDisplay
from ._reliability import ReliabilityDisplay
from ._roc import MulticlassROCDisplay
from ._saliency import SaliencyDisplay

__all__ = [
    "MulticlassROCDisplay",
    "ReliabilityDisplay",
    "SaliencyDisplay",
    "TrainingHistoryDisplay",
    "expected_calibration_error",
]
