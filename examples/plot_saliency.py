"""
======================================
Where in the face the model looked
======================================

A saliency map says which pixels of a face a prediction rests on.
:class:`~skfer.SaliencyDisplay` computes one map per face, for the
predicted emotion (or one you name), and draws it over the face with the
emotion and its probability. Two methods make the maps:

* Grad-CAM (``method="gradcam"``, the default) weighs the feature maps of the
  network's last convolutional block by the gradient of the emotion's score.
  It needs the Keras network and explains its float weights, while
  :func:`~skfer.load_pretrained` predicts with an 8-bit copy of them; the
  titles show the 8-bit engine's probabilities.
* Occlusion (``method="occlusion"``) covers the face square by square and
  records how much the emotion's probability falls. It calls only
  ``predict_proba``, so it explains exactly what is predicted, by any model.

The model is the one skfer ships, the faces are FER2013's PublicTest faces
(validation data). How both methods fare on the sanity checks of Adebayo et
al. (2018) is measured in ``benchmarks/results/saliency_sanity.md``.
"""

# %%
# A few faces of each emotion
# ---------------------------
# :func:`~skfer.load_fer2013` finds the data through the ``SKFER_DATA``
# environment variable. ``SKFER_EXAMPLES=quick`` (how the project's CI runs
# the gallery) shows one face per emotion instead of two.
import os

import matplotlib.pyplot as plt
import numpy as np

from skfer import EMOTIONS, SaliencyDisplay, load_fer2013, load_pretrained

val = load_fer2013(usage="PublicTest")
per_emotion = 1 if os.environ.get("SKFER_EXAMPLES") == "quick" else 2
shown = ["Happy", "Surprise", "Sad", "Angry", "Fear", "Neutral"]
rows = np.concatenate([np.flatnonzero(val.target == EMOTIONS.index(name))[:per_emotion] for name in shown])
X = val.data[rows]
print("True emotions:", [EMOTIONS[label] for label in val.target[rows]])
pipe = load_pretrained()

# %%
# Grad-CAM
# --------
# The maps of the last convolutional block (11x11 cells over the central
# 44x44 pixels the network sees), each drawn from 0 to its largest value.
# The pixel strings go in as they are: the pipeline parses them.
gradcam = SaliencyDisplay.from_estimator(pipe, X, n_cols=6)
gradcam.figure_.suptitle("Grad-CAM, for the predicted emotion")
plt.show()

# %%
# Occlusion
# ---------
# Each 12-pixel square, moved by 4 pixels, is covered with the face's mean
# grey; a pixel's value is the mean fall of the emotion's probability over
# the squares that cover it (negative values, where covering raised it, are
# drawn as 0). 100 predictions of the 8-bit engine per face.
occlusion = SaliencyDisplay.from_estimator(pipe, X, method="occlusion", n_cols=6)
occlusion.figure_.suptitle("Occlusion, for the predicted emotion")
plt.show()

# %%
# The maps themselves
# -------------------
# ``maps`` holds the raw values, one 48x48 map per face, aligned with the
# face. Here: the share of each occlusion map's positive mass in the lower
# third of the face (mouth and chin), by predicted emotion.
lower = np.clip(occlusion.maps, 0, None)
share = lower[:, 32:].sum(axis=(1, 2)) / lower.sum(axis=(1, 2))
for name, value in zip(occlusion.target_names, share):
    print(f"{name:>8}: {value:.0%} of the map below row 32")

# %%
# Another emotion than the predicted one
# --------------------------------------
# ``target`` names the emotion each map explains: here, what in each face
# speaks for "Happy", whatever was predicted. Where "Happy" is improbable
# (a few percent), covering a square barely changes its probability, and
# each map, drawn on its own scale, shows mostly noise.
SaliencyDisplay.from_estimator(pipe, X, target="Happy", method="occlusion", n_cols=6)
plt.show()

# %%
# Photos
# ------
# :func:`~skfer.predict_images` with ``explain=True`` returns each face's map
# on the photo's pixels (columns ``saliency`` and ``saliency_box``), and
# ``skfer predict photo.jpg --explain DIR`` writes the photos with the maps
# blended in under the boxes.
