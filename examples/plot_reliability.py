"""
==================================================
How far to trust the probability: clean vs blurred
==================================================

A classifier is *calibrated* when, of the faces it labels with confidence
0.8, about 80% are right. A reliability diagram shows it: the faces are put
in bins by their confidence (the largest of their seven probabilities),
and each bin's accuracy is drawn against its mean confidence. A calibrated
model lies on the diagonal; below it, the model is surer than it is right.
:class:`~skfer.reporting.ReliabilityDisplay` draws the diagram with the
number of faces in each bin below it, and the legend gives the expected
calibration error (:func:`~skfer.reporting.expected_calibration_error`):
the bins' gaps between accuracy and confidence, weighted by their faces.

The model is the one skfer ships (:func:`~skfer.load_pretrained`, trained
on FER2013's Training split, predicting with its 8-bit engine), read on
PublicTest, the validation split: first the faces as they are, then the
same faces blurred (a Gaussian of sigma 1 pixel), a shift the model never
saw in training. The model card gives the measured figures on all of
PublicTest, under every shift of the robustness benchmark.
"""

# %%
# The shipped model on PublicTest, clean and blurred
# --------------------------------------------------
# :func:`~skfer.load_fer2013` finds the data through the ``SKFER_DATA``
# environment variable. ``SKFER_EXAMPLES=quick`` reads the first 500 faces
# only (how the project's CI runs the gallery). The pipeline takes the
# faces as pixel strings or as 48x48 arrays alike; OpenCV blurs the arrays.
import os

import cv2
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import log_loss

from skfer import ReliabilityDisplay, load_fer2013, load_pretrained
from skfer.preprocessing import to_pixel_array

val = load_fer2013(usage="PublicTest")
n = 500 if os.environ.get("SKFER_EXAMPLES") == "quick" else len(val.target)
faces = to_pixel_array(val.data[:n]).reshape(-1, 48, 48).astype(np.uint8)
y_test = val.target[:n]
blurred = np.stack([cv2.GaussianBlur(face, (0, 0), 1.0) for face in faces])
pipe = load_pretrained()

# %%
# The diagrams
# ------------
# :meth:`~skfer.reporting.ReliabilityDisplay.from_estimator` calls ``predict_proba``
# and reads its columns by ``classes_``. Passing the first display's
# ``axes_`` draws the second on the same panels.
clean = ReliabilityDisplay.from_estimator(pipe, faces, y_test, name="clean faces")
blur = ReliabilityDisplay.from_estimator(
    pipe, blurred, y_test, name="blurred, sigma 1", ax=clean.axes_, color="tab:red"
)
clean.ax_.set_title("Shipped model on PublicTest: accuracy per confidence bin")
plt.show()

# %%
# On clean faces the points follow the diagonal. Blurred, the model is
# right less often at most confidences, and its faces move to lower
# confidences, but not as far as its accuracy falls. The bins are kept as arrays (``counts``, ``accuracy``,
# ``confidence``), with the error in ``ece``; weighted by their faces, they
# give the overall accuracy and mean confidence, whose gap says whether the
# model is surer than it is right:
for display in (clean, blur):
    filled = display.counts > 0
    weights = display.counts[filled] / display.counts.sum()
    accuracy = np.sum(weights * display.accuracy[filled])
    confidence = np.sum(weights * display.confidence[filled])
    print(
        f"{display.name:>16}: ECE {display.ece:.3f}; accuracy {accuracy:.3f}, "
        f"mean confidence {confidence:.3f} ({filled.sum()} bins with faces)"
    )

# %%
# The log loss scores the same probabilities, calibration and sharpness
# together:
for name, X in (("clean faces", faces), ("blurred", blurred)):
    print(f"{name:>16}: log loss {log_loss(y_test, pipe.predict_proba(X), labels=pipe.classes_):.3f}")
