"""
======================================
Which emotions get confused with which
======================================

skfer pipelines are ordinary scikit-learn classifiers, so scikit-learn's own
:class:`~sklearn.metrics.ConfusionMatrixDisplay` and
:func:`~sklearn.metrics.classification_report` work on them unchanged; skfer
adds no confusion-matrix code of its own. Give them the emotion names and
they label rows and columns with them.

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
from sklearn.metrics import ConfusionMatrixDisplay, classification_report

from skfer import load_fer2013, load_pretrained

val = load_fer2013(usage="PublicTest")
n = 500 if os.environ.get("SKFER_EXAMPLES") == "quick" else len(val.target)
X_test, y_test = val.data[:n], val.target[:n]
pipe = load_pretrained()

# %%
# Counts
# ------
# Rows are the true emotions, columns the predicted ones; the labels are
# FER2013's integer codes, named through ``display_labels``.
fig, ax = plt.subplots(figsize=(7, 6), layout="constrained")
ConfusionMatrixDisplay.from_estimator(
    pipe, X_test, y_test, display_labels=val.target_names, xticks_rotation=45, ax=ax
)
ax.set_title("Confusion matrix (counts)")
plt.show()

# %%
# Normalized by true emotion
# --------------------------
# With ``normalize="true"`` each row sums to one: the diagonal is the recall
# of each emotion, and the off-diagonal cells show where its faces went.
fig, ax = plt.subplots(figsize=(7, 6), layout="constrained")
ConfusionMatrixDisplay.from_estimator(
    pipe,
    X_test,
    y_test,
    display_labels=val.target_names,
    normalize="true",
    values_format=".2f",
    xticks_rotation=45,
    ax=ax,
)
ax.set_title("Confusion matrix (normalized over true emotions)")
plt.show()

# %%
# Precision, recall and F1 per emotion
# ------------------------------------
# ``zero_division=0`` reports a precision of 0 for emotions the model never
# predicts instead of warning.
print(
    classification_report(
        y_test, pipe.predict(X_test), target_names=val.target_names, zero_division=0
    )
)
