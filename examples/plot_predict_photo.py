"""
=====================================
Emotions of the faces in a photograph
=====================================

FER2013 models see 48x48 grayscale faces, but real photos are larger, in
colour, and show more than a face. :class:`~skfer.preprocessing.FaceDetector`
bridges the gap: it finds each face with the BlazeFace network shipped in
skfer, turns it so that the eyes are level, crops it with a small margin and
resizes it like FER2013. This example runs it on the
portrait of astronaut Eileen Collins that ships with scikit-image, predicts
the emotion of the face and draws the seven probabilities.
"""

# %%
# A classifier
# ------------
# Any fitted pipeline that takes faces as rows of 2304 pixel values 0-255
# will do; we use the model skfer ships.
from skfer import load_pretrained

pipe = load_pretrained()

# %%
# Predict from a photo file
# -------------------------
# :func:`skfer.predict_images` takes image files, folders and videos, finds
# every face with :class:`~skfer.preprocessing.FaceDetector` (BlazeFace, eyes
# levelled), crops it with a small margin to 48x48 like FER2013 and predicts
# all faces in batches. It returns one row per face: where it is, the
# predicted emotion and the probability of each of the seven emotions.
# ``annotate_dir`` would also write copies of the photos with the faces drawn.
import tempfile
from pathlib import Path

import cv2
from skimage.data import astronaut

from skfer import EMOTIONS, predict_images

photo = astronaut()
path = Path(tempfile.mkdtemp()) / "astronaut.png"
cv2.imwrite(str(path), cv2.cvtColor(photo, cv2.COLOR_RGB2BGR))  # OpenCV writes BGR
df = predict_images([path], pipe)
print(df[["face", "x", "y", "w", "h", "emotion", *EMOTIONS]].round(2).to_string())

# %%
# What the model sees
# -------------------
# The detector can also be used on its own, on image arrays: ``crop`` gives
# the rows a fitted pipeline takes and, for each, where the face was and
# its 48x48 crop.
from skfer.preprocessing import FaceDetector

detector = FaceDetector()
X, faces = detector.crop([photo])
print(X.shape, faces[0].box)

# %%
# Draw the face and its emotions
# ------------------------------
import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle

face = df.iloc[0]
proba = face[list(EMOTIONS)].to_numpy(dtype=float)
fig, (ax_photo, ax_face, ax_bars) = plt.subplots(
    1, 3, figsize=(11, 4), width_ratios=[2.2, 1, 2.2], layout="constrained"
)
ax_photo.imshow(photo)
box = Rectangle((face.x, face.y), face.w, face.h, fill=False, edgecolor="lime", lw=2)
ax_photo.add_patch(box)
label = f"{face.emotion} {proba.max():.0%}"
ax_photo.text(face.x, face.y - 8, label, color="white",
              bbox={"facecolor": "green", "edgecolor": "none", "pad": 2})
ax_photo.set_title("Photo and detected face")
ax_face.imshow(faces[0].image, cmap="gray", vmin=0, vmax=255)
ax_face.set_title("Model input (48x48)")
for ax in (ax_photo, ax_face):
    ax.set_axis_off()
bars = ax_bars.barh(EMOTIONS, proba, color="lightgray")
bars[int(proba.argmax())].set_color("tab:green")
ax_bars.invert_yaxis()
ax_bars.set_xlim(0, 1)
ax_bars.set_xlabel("Probability")
ax_bars.set_title("Predicted emotion")
plt.show()
