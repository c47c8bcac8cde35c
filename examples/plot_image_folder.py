"""
=====================================
Training from a folder of face images
=====================================

Your own faces come as folders of photos, not as a CSV of pixel strings.
:func:`~skfer.datasets.load_image_folder` reads a folder with one
sub-folder per emotion into the Bunch layout of
:func:`~skfer.load_fer2013`; :class:`~skfer.datasets.FaceFolderDataset`
reads the same folder batch by batch, for more faces than fit in memory,
and :func:`~skfer.fit_dataset` trains a
:class:`~skfer.FERClassifier` on it.

To have a folder to show, we write 1,400 FER2013 faces as 96x96 JPEG files
into sub-folders named after their emotions, and one broken file.
"""

# %%
# A folder of images
# ------------------
import os
import tempfile
from pathlib import Path

import cv2
import matplotlib.pyplot as plt
import numpy as np

from skfer import EMOTIONS, FERClassifier, load_fer2013
from skfer import fit_dataset
from skfer.datasets import FaceFolderDataset, load_image_folder
from skfer.preprocessing import to_pixel_array
from skfer.reporting import TrainingHistoryDisplay

fer = load_fer2013(usage="Training")
QUICK = os.environ.get("SKFER_EXAMPLES") == "quick"  # a smaller run: how CI runs the gallery
n = 280 if QUICK else 1400
pixels = to_pixel_array(fer.data[:n]).reshape(-1, 48, 48).astype(np.uint8)
root = Path(tempfile.mkdtemp()) / "my_faces"
for i, (face, label) in enumerate(zip(pixels, fer.target[:n])):
    folder = root / EMOTIONS[label].lower()
    folder.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(folder / f"face_{i:04d}.jpg"), cv2.resize(face, (96, 96)))
(root / "happy" / "broken.jpg").write_bytes(b"not really a JPEG")
print(sorted(p.name for p in root.iterdir()))

# %%
# Loading it into memory
# ----------------------
# The images are already faces, so ``crop=False`` takes each whole (photos
# would keep the default, which finds and crops the largest face). The
# broken file is skipped, with a warning that says so.
faces = load_image_folder(root, crop=False, n_jobs=2)
print(faces.data.shape, faces.skipped)

fig, axes = plt.subplots(2, 7, figsize=(9, 3))
for label, column in zip(range(7), axes.T):
    rows = np.flatnonzero(faces.target == label)[:2]
    for ax, row in zip(column, rows):
        ax.imshow(faces.images[row], cmap="gray")
    column[0].set_title(faces.target_names[label], fontsize=9)
for ax in axes.flat:
    ax.axis("off")
fig.tight_layout()

# %%
# Training batch by batch from the files
# --------------------------------------
# The dataset lists the files and reads each batch when Keras asks for it.
# 300 other FER2013 faces serve as validation data, scaled as the dataset
# scales its batches (to [0, 1]).
train = FaceFolderDataset(root, crop=False, batch_size=64, workers=2, random_state=0)
X_val, y_val = to_pixel_array(fer.data[1400:1700]) / 255, fer.target[1400:1700]
clf = FERClassifier(architecture__filters=(8, 16), dropout=0.2, architecture__dense_units=32,
                    batch_size=64, epochs=1 if QUICK else 4, random_state=0)
clf = fit_dataset(clf, train, validation_data=(X_val, y_val))
print("validation accuracy:", round(clf.score(X_val, y_val), 3))
TrainingHistoryDisplay.from_estimator(clf)
plt.show()
