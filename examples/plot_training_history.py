"""
==============================
Watching a FERClassifier learn
==============================

Keras records the training and validation accuracy and loss after every
epoch; a fitted :class:`~skfer.FERClassifier` keeps them in ``history_``.
:class:`~skfer.reporting.TrainingHistoryDisplay` draws them side by side and
marks the two things the training recipe does on its own when it gets
validation data: it halves the learning rate when validation accuracy stops
improving (a dotted line where the rate steps down after being held; the
bottom panel draws the rate itself), and early stopping keeps the weights of
the epoch with the best validation accuracy (star).

This is a quick demo: a slimmed-down network trains for a few epochs on
3,000 faces, so it reaches only about a third of the faces right, far below
what the full recipe reaches on the whole training set.
"""

# %%
# Training and validation faces
# -----------------------------
# :func:`~skfer.load_fer2013` finds the data through the ``SKFER_DATA``
# environment variable. We take the first 3,000 Training faces to learn from
# and 1,000 PublicTest faces to validate on.
import os
import matplotlib.pyplot as plt
import numpy as np

from skfer import FERClassifier, load_fer2013, make_fer_pipeline
from skfer.reporting import TrainingHistoryDisplay

fer = load_fer2013()
QUICK = os.environ.get("SKFER_EXAMPLES") == "quick"  # a smaller run: how CI runs the gallery
train = np.flatnonzero(fer.usage == "Training")[: 400 if QUICK else 3000]
val = np.flatnonzero(fer.usage == "PublicTest")[: 200 if QUICK else 1000]
X_train, y_train = fer.data[train], fer.target[train]
X_val, y_val = fer.data[val], fer.target[val]

# %%
# A short fit with validation data
# --------------------------------
# Half the default filters and no augmentation keep each epoch to a few
# seconds on a CPU. The plateau schedule with ``lr_schedule__patience=2``
# halves the learning rate after two epochs without progress, so that the
# drops show within 8 epochs (the default waits 7 epochs).
classifier = FERClassifier(
    architecture__filters=(16, 32, 64),
    architecture__dense_units=64,
    augmentation=None,
    batch_size=64,
    epochs=2 if QUICK else 8,
    lr_schedule="plateau",
    lr_schedule__patience=2,
    early_stopping=True,
    early_stopping__patience=4,
    random_state=0,
)
pipe = make_fer_pipeline(classifier)
pipe.fit(X_train, y_train, validation_data=(X_val, y_val))

# %%
# The learning curves
# -------------------
# :meth:`~skfer.reporting.TrainingHistoryDisplay.from_estimator` takes the
# pipeline (or the classifier itself) and reads the history of its final
# step.
display = TrainingHistoryDisplay.from_estimator(pipe, title="FERClassifier, quick demo")
plt.show()

# %%
# The same numbers are in the history itself, for instance the learning rate
# each epoch trained with and the epoch whose weights the model kept:
history = pipe[-1].history_
print("learning rate per epoch:", np.round(history["learning_rate"], 5))
print(
    f"best validation accuracy {max(history['val_accuracy']):.3f} "
    f"at epoch {display.best_epoch}"
)
