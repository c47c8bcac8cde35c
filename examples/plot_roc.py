"""
==========================================
One-vs-rest ROC curves for seven emotions
==========================================

A ROC curve shows, for one class, how many of its faces a classifier
catches (true positive rate) against how many other faces it wrongly
flags (false positive rate) as the decision threshold on that class's
probability moves. :class:`~skfer.reporting.MulticlassROCDisplay` draws one
curve per emotion, each from that emotion's own ``predict_proba`` column
against all other emotions, plus two summaries: the micro-average (every
face-emotion pair pooled, so frequent emotions weigh more) and the
macro-average (the emotions' curves averaged, each emotion weighing the
same). The legend gives the area under each curve (AUC): 0.5 is chance,
1.0 perfect.

The model is the one skfer ships (:func:`~skfer.load_pretrained`, trained
on FER2013's Training split), read on PublicTest, the validation split.
"""

# %%
# The shipped model on PublicTest
# -------------------------------
# :func:`~skfer.load_fer2013` finds the data through the ``SKFER_DATA``
# environment variable. ``SKFER_EXAMPLES=quick`` reads the first 500 faces
# only (how the project's CI runs the gallery).
import os

import matplotlib.pyplot as plt
from sklearn.metrics import roc_auc_score

from skfer import load_fer2013, load_pretrained
from skfer.reporting import MulticlassROCDisplay

val = load_fer2013(usage="PublicTest")
n = 500 if os.environ.get("SKFER_EXAMPLES") == "quick" else len(val.target)
X_test, y_test = val.data[:n], val.target[:n]
pipe = load_pretrained()

# %%
# The curves
# ----------
# :meth:`~skfer.reporting.MulticlassROCDisplay.from_estimator` calls
# ``predict_proba`` and matches its columns to ``classes_``; the integer
# labels get their emotion names through ``display_labels``.
display = MulticlassROCDisplay.from_estimator(
    pipe, X_test, y_test, display_labels=val.target_names
)
plt.show()

# %%
# The areas are kept in ``roc_auc``, keyed by emotion, ``"micro"`` and
# ``"macro"``. The mean of the emotions' areas is scikit-learn's macro
# one-vs-rest AUC, close to the area under the drawn macro curve.
for name, area in display.roc_auc.items():
    print(f"{name:>8}: {area:.3f}")
macro = roc_auc_score(y_test, pipe.predict_proba(X_test), multi_class="ovr")
print(f"roc_auc_score(multi_class='ovr'): {macro:.3f}")
