"""Displays that report how a FER classifier trained, how well it separates emotions and where it looked.

Confusion matrices and text reports come from scikit-learn itself:
:class:`sklearn.metrics.ConfusionMatrixDisplay` and
:func:`sklearn.metrics.classification_report` work on any fitted skfer
pipeline.
"""

from ._history import TrainingHistoryDisplay
from ._roc import MulticlassROCDisplay
from ._saliency import SaliencyDisplay

__all__ = [
    "MulticlassROCDisplay",
    "SaliencyDisplay",
    "TrainingHistoryDisplay",
]
