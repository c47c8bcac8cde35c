"""FER2013 faces that calibrate an 8-bit engine or export."""

from ..datasets import load_fer2013
from ..inference._engine import calibration_sample


def fer2013_calibration_faces(data=None, n=512):
    """``n`` FER2013 Training faces spread evenly over the split, to calibrate an 8-bit export.

    Parameters
    ----------
    data : str or path-like, default=None
        FER2013 CSV or its folder, as in :func:`~skfer.datasets.load_fer2013`.
    n : int, default=512
        Faces to take.

    Returns
    -------
    ndarray of shape (n,)
        Pixel strings, as ``export_onnx(..., calibration=...)`` takes them
        for a pipeline.

    Examples
    --------
    >>> from skfer.experiments import fer2013_calibration_faces
    >>> faces = fer2013_calibration_faces(n=64)  # doctest: +SKIP
    """
    return calibration_sample(load_fer2013(data, usage="Training").data, n)
