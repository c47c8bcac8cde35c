"""Facts about FER2013 faces that every module shares, defined once."""

#: Emotion names in FER2013's label order (label ``i`` is ``EMOTIONS[i]``).
EMOTIONS = ("Angry", "Disgust", "Fear", "Happy", "Sad", "Surprise", "Neutral")

#: Side of a FER2013 face in pixels; faces are square and grayscale.
IMAGE_SIZE = 48

#: Number of pixels, i.e. features, in one flattened face.
N_PIXELS = IMAGE_SIZE * IMAGE_SIZE

#: Largest pixel value of an 8-bit grayscale face.
PIXEL_MAX = 255.0
