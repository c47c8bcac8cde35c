"""
======================================
Which emotions get confused with which
======================================

skfer pipelines are ordinary scikit-learn classifiers, so scikit-learn's own
:class:`~sklearn.metrics.ConfusionMatrixDisplay` and
:func:`~sklearn.metrics.classification_report` work on them unchanged; skfer
adds no confusion-matrix code of its own. Give them the emotion names and
they label rows and columns with them.

This is a quick demo: a slimmed-down network trains for a few epochs on
3,000 faces, so its accuracy is low (about a third of the faces right) and
it hardly ever predicts the rare classes. The full recipe on the whole
training set does much better; the way to read the figures stays the same.
"""

# %%
# A quickly trained classifier
# ----------------------------
# :func:`~skfer.load_fer2013` finds the data through the ``SKFER_DATA``
# environment variable. We fit on the first 3,000 Training faces and
# evaluate on 1,000 PublicTest faces the model never saw.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import ConfusionMatrixDisplay, classification_report

from skfer import FERClassifier, load_fer2013, make_fer_pipeline

fer = load_fer2013()
train = np.flatnonzero(fer.usage == "Training")[:3000]
test = np.flatnonzero(fer.usage == "PublicTest")[:1000]
X_test, y_test = fer.data[test], fer.target[test]

classifier = FERClassifier(
    architecture__filters=(16, 32, 64),
    architecture__dense_units=64,
    augmentation=None,
    batch_size=64,
    epochs=6,
    random_state=0,
)
pipe = make_fer_pipeline(classifier).fit(fer.data[train], fer.target[train])

# %%
# Counts
# ------
# Rows are the true emotions, columns the predicted ones; the labels are
# FER2013's integer codes, named through ``display_labels``.
fig, ax = plt.subplots(figsize=(7, 6), layout="constrained")
ConfusionMatrixDisplay.from_estimator(
    pipe, X_test, y_test, display_labels=fer.target_names, xticks_rotation=45, ax=ax
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
    display_labels=fer.target_names,
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
        y_test, pipe.predict(X_test), target_names=fer.target_names, zero_division=0
    )
)
