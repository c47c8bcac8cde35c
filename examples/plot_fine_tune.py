"""
=========================================
Fine-tuning the pretrained model: 3 moods
=========================================

:func:`skfer.load_pretrained` returns a fitted pipeline. Setting
``warm_start=True`` on its classifier makes the next ``fit`` start from the
pretrained weights; when ``y`` holds other labels than the model's seven
emotions, the output layer is replaced by a new one for those labels and
the rest of the network keeps what it learned. ``freeze_blocks`` keeps the
first conv blocks fixed, which suits small data sets.

Here a user only cares about three moods (Happy, Sad, Neutral) and has
600 labelled faces. As a stand-in we take them from FER2013's PublicTest
split and score on another 600 PublicTest faces; the pretrained model was
selected on PublicTest, so this is a demo of the mechanics, not a fair
benchmark.
"""

# %%
# Faces of three moods
# --------------------
import os
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import ConfusionMatrixDisplay

from skfer import EMOTIONS, load_fer2013, load_pretrained

val = load_fer2013(usage="PublicTest")
names = np.array(EMOTIONS)[val.target]
moods = np.flatnonzero(np.isin(names, ["Happy", "Sad", "Neutral"]))
QUICK = os.environ.get("SKFER_EXAMPLES") == "quick"  # a smaller run: how CI runs the gallery
half = 100 if QUICK else 600
tune, held_out = moods[:half], moods[half : 2 * half]

# %%
# Before: the 7-emotion model on the 3-mood faces
# -----------------------------------------------
# It may answer with any of its seven emotions, so some answers are wrong
# by construction.
pipe = load_pretrained()
before = np.mean(np.array(EMOTIONS)[pipe.predict(val.data[held_out])] == names[held_out])
print(f"pretrained, 7 emotions: {before:.1%} of the held-out faces right")

# %%
# Fine-tune a new 3-mood head
# ---------------------------
# Only the classifier is fitted again, on faces prepared by the fitted
# preprocessing steps; the three conv blocks stay frozen.
classifier = pipe[-1]
classifier.set_params(warm_start=True, freeze_blocks=3, epochs=1 if QUICK else 8, random_state=0)
classifier.fit(pipe[:-1].transform(val.data[tune]), names[tune])
after = np.mean(pipe.predict(val.data[held_out]) == names[held_out])
print(f"fine-tuned, classes {classifier.classes_.tolist()}: {after:.1%} right")

# %%
# Where the fine-tuned model still errs
# -------------------------------------
fig, ax = plt.subplots(figsize=(5, 4.5), layout="constrained")
ConfusionMatrixDisplay.from_estimator(pipe, val.data[held_out], names[held_out], ax=ax, colorbar=False)
ax.set_title("Fine-tuned on 600 faces, 600 held out")
plt.show()
