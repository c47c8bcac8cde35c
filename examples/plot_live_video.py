"""
==========================================
Emotions in a live video, frame by frame
==========================================

:func:`skfer.stream_emotions` takes frames one at a time, from a webcam, a
video file or any list of images, and yields each frame's faces and
emotions with a timestamp. This example runs the loop you would run on a
webcam on a short video instead: we make the video here with OpenCV, from
the portrait of astronaut Eileen Collins that ships with scikit-image,
moving and zooming over it so that the face drifts across the frame.

On a webcam, the same loop reads ``cv2.VideoCapture(0)`` and shows each
frame with ``cv2.imshow`` (see the end of this page).
"""

# %%
# A short video
# -------------
# 40 frames of 320x240 at 10 frames per second: a window sliding over the
# photo, written as Motion-JPEG, which every OpenCV build can read and write.
import tempfile
from pathlib import Path

import cv2
import numpy as np
from skimage.data import astronaut

photo = cv2.cvtColor(astronaut(), cv2.COLOR_RGB2BGR)  # OpenCV works in BGR
video = Path(tempfile.mkdtemp()) / "astronaut.avi"
writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (320, 240))
for i in range(40):
    side = 400 - 4 * i  # zoom in slowly
    x, y = 40 + 2 * i, 10 + i  # and drift
    writer.write(cv2.resize(photo[y : y + side * 3 // 4, x : x + side], (320, 240)))
writer.release()

# %%
# The loop
# --------
# :func:`~skfer.stream_emotions` takes the pipeline to predict with (here
# the pretrained one); ``batch_frames=1`` gives each frame's result as soon as it is ready (more
# frames per batch suit files, where throughput matters more than latency).
# Each result holds the frame, its faces (box, 48x48 crop, detector score),
# their emotions and probabilities, the time into the video and the
# latency: seconds from reading the frame to its result.
from skfer import EMOTIONS, load_pretrained, stream_emotions

model = load_pretrained()
times, happy, latencies, shown = [], [], [], {}
for result in stream_emotions(video, model, batch_frames=1):
    latencies.append(result.latency_s)
    if result.faces:
        times.append(result.time_s)
        happy.append(result.proba[0, EMOTIONS.index("Happy")])
    if result.index % 13 == 0:  # keep a few frames, with their faces drawn
        frame = result.frame.copy()
        for face, emotion in zip(result.faces, result.emotions):
            x, y, w, h = face.box
            cv2.rectangle(frame, (x, y), (x + w, y + h), (0, 160, 0), 2)
            cv2.putText(frame, emotion, (x, max(y - 6, 12)), cv2.FONT_HERSHEY_SIMPLEX,
                        0.6, (0, 160, 0), 2)
        shown[result.time_s] = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)

print(f"{len(latencies)} frames, faces in {len(times)}; latency per frame: "
      f"median {np.median(latencies) * 1e3:.0f} ms, slowest {max(latencies) * 1e3:.0f} ms")

# %%
# What it saw
# -----------
# The first frame's latency includes loading the face detector.
import matplotlib.pyplot as plt

fig = plt.figure(figsize=(11, 5.5), layout="constrained")
top, bottom = fig.subfigures(2, 1, height_ratios=[1, 1])
for ax, (time_s, frame) in zip(top.subplots(1, len(shown)), shown.items()):
    ax.imshow(frame)
    ax.set_title(f"t = {time_s:.1f} s")
    ax.set_axis_off()
ax_happy, ax_latency = bottom.subplots(1, 2)
ax_happy.plot(times, happy, marker=".")
ax_happy.set(xlabel="Time into the video (s)", ylabel="P(Happy)", ylim=(0, 1.05),
             title="The face's probability of Happy")
ax_latency.plot(np.asarray(latencies[1:]) * 1e3, marker=".", color="tab:gray")
ax_latency.set(xlabel="Frame", ylabel="ms", title="Latency per frame (after the first)")
plt.show()

# %%
# On a webcam
# -----------
# The same loop, showing each frame in a window until ``q`` is pressed. The
# capture is left open for you to release::
#
#     capture = cv2.VideoCapture(0)
#     for result in stream_emotions(capture, model):
#         for face, emotion in zip(result.faces, result.emotions):
#             x, y, w, h = face.box
#             cv2.rectangle(result.frame, (x, y), (x + w, y + h), (0, 160, 0), 2)
#             cv2.putText(result.frame, emotion, (x, y - 6), 0, 0.8, (0, 160, 0), 2)
#         cv2.imshow("skfer", result.frame)
#         if cv2.waitKey(1) == ord("q"):
#             break
#     capture.release()
#
# For less latency without TensorFlow, pass an
# :class:`~skfer.ONNXEmotionPredictor` as the pipeline (see
# :ref:`deployment`).
