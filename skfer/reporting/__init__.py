"""Displays that report how a FER classifier trained and how well it separates emotions.

Confusion matrices and text reports come from scikit-learn itself:
:class:`sklearn.metrics.ConfusionMatrixDisplay` and
:func:`sklearn.metrics.classification_report` work on any fitted skfer
pipeline.
"""

from ._history import TrainingHistoryDisplay
from ._roc import MulticlassROCDisplay

__all__ = ["MulticlassROCDisplay", "TrainingHistoryDisplay"]
