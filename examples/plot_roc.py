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

This is a quick demo: a slimmed-down network trains for a few epochs on
3,000 faces, so its accuracy is low (about a third of the faces right).
ROC curves still separate the emotions it has started to recognize from the
ones it has not.
"""

# %%
# A quickly trained classifier
# ----------------------------
# :func:`~skfer.load_fer2013` finds the data through the ``SKFER_DATA``
# environment variable. We fit on the first 3,000 Training faces and
# evaluate on 1,000 PublicTest faces the model never saw.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import roc_auc_score

from skfer import FERClassifier, load_fer2013, make_fer_pipeline
from skfer.reporting import MulticlassROCDisplay

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
# The curves
# ----------
# :meth:`~skfer.reporting.MulticlassROCDisplay.from_estimator` calls
# ``predict_proba`` and matches its columns to ``classes_``; the integer
# labels get their emotion names through ``display_labels``.
display = MulticlassROCDisplay.from_estimator(
    pipe, X_test, y_test, display_labels=fer.target_names
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
