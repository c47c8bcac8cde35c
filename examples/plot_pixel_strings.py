"""
===========================
From pixel strings to faces
===========================

FER2013 stores each 48x48 grayscale face as one string of 2304
space-separated pixel values. This example loads the validation split
(PublicTest), parses the strings with
:class:`~skfer.preprocessing.PixelStringTransformer` and draws the first face
of every emotion next to the average face of the split.
"""

# %%
# Load the faces
# --------------
# :func:`~skfer.datasets.load_fer2013` finds the CSV file through the
# ``SKFER_DATA`` environment variable. Each row of ``data`` is a string.
from skfer import EMOTIONS, PixelStringTransformer, load_fer2013

val = load_fer2013(usage="PublicTest")
print(len(val.data), "faces; the first begins with", val.data[0][:30], "...")

# %%
# Parse them into pixels
# ----------------------
# The transformer turns the strings into a float array of shape
# ``(n_faces, 2304)`` with values 0-255, one face per row, row-major.
X = PixelStringTransformer().fit_transform(val.data)
print(X.shape, X.dtype, X.min(), X.max())

# %%
# Look at them
# ------------
# Reshape a row to 48x48 to see the face: the first face of each emotion
# (label ``i`` is ``EMOTIONS[i]``), and the mean of all faces of the split.
import matplotlib.pyplot as plt
import numpy as np

firsts = [np.flatnonzero(val.target == k)[0] for k in range(len(EMOTIONS))]
panels = [(X[i], EMOTIONS[val.target[i]]) for i in firsts]
panels.append((X.mean(axis=0), "Mean face"))
fig, axes = plt.subplots(2, 4, figsize=(8, 4.6), layout="constrained")
for ax, (face, title) in zip(axes.flat, panels):
    ax.imshow(face.reshape(48, 48), cmap="gray", vmin=0, vmax=255)
    ax.set_title(title)
    ax.set_axis_off()
fig.suptitle("FER2013 PublicTest: one face per emotion")
plt.show()

# %%
# How many faces of each emotion?
# -------------------------------
# The classes are far from balanced: Disgust is rare, Happy is common.
counts = np.bincount(val.target, minlength=len(EMOTIONS))
for name, count in zip(EMOTIONS, counts):
    print(f"{name:>8}: {count}")
