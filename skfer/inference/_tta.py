"""Test-time augmentation: the views of each face whose predictions are averaged.

NumPy only, so that code without scikeras or TensorFlow (the GPU training
script) uses the same views as :class:`FERClassifier`'s ``tta`` parameter.
"""

import numpy as np

from .._constants import IMAGE_SIZE

#: Test-time augmentations ``FERClassifier(tta=...)`` accepts.
TTA = ("flip", "ten_crop")


def _shifted(faces, dy, dx):
    """Faces (n, 48, 48) moved by (dy, dx) pixels, edges repeated into the gap."""
    pad = max(abs(dy), abs(dx))
    padded = np.pad(faces, ((0, 0), (pad, pad), (pad, pad)), mode="edge")
    top, left = pad - dy, pad - dx
    return padded[:, top : top + IMAGE_SIZE, left : left + IMAGE_SIZE]


def tta_views(X, tta, crop_size=None):
    """The views of each face that test-time augmentation averages over.

    Parameters
    ----------
    X : ndarray of shape (n_samples, 2304)
        Faces as the network takes them.
    tta : {"flip", "ten_crop"} or None
        None: the faces themselves. ``"flip"``: the faces and their mirror
        images. ``"ten_crop"``: the faces shifted so that the network's
        central crop sees the centre and the four corner crops, each also
        mirrored (ten views).
    crop_size : int, default=None
        The network's crop (``FERClassifier(augmentation__crop_size=...)``); the corner
        shift is half the margin, or 2 pixels without a crop.

    Returns
    -------
    list of ndarray of shape (n_samples, 2304)
        One array per view.

    Examples
    --------
    >>> import numpy as np
    >>> from skfer.inference._tta import tta_views
    >>> faces = np.arange(2 * 2304, dtype=np.float32).reshape(2, 2304)
    >>> [len(tta_views(faces, t, crop_size=44)) for t in (None, "flip", "ten_crop")]
    [1, 2, 10]
    >>> flipped = tta_views(faces, "flip")[1].reshape(2, 48, 48)
    >>> bool(np.array_equal(flipped[:, :, 0], faces.reshape(2, 48, 48)[:, :, -1]))
    True
    """
    if tta is None:
        return [X]
    faces = X.reshape(-1, IMAGE_SIZE, IMAGE_SIZE)
    if tta == "flip":
        shifts = [(0, 0)]
    else:
        d = (IMAGE_SIZE - crop_size) // 2 if crop_size else 2
        shifts = [(0, 0), (d, d), (d, -d), (-d, d), (-d, -d)]
    views = []
    for dy, dx in shifts:
        moved = _shifted(faces, dy, dx) if (dy or dx) else faces
        views += [moved.reshape(len(X), -1), moved[:, :, ::-1].reshape(len(X), -1)]
    return views
