"""Load Keras models that hold skfer's layers and losses."""

import keras

# Importing these modules registers skfer's Keras objects for deserialization.
from . import _augmentation, _losses  # noqa: F401


def load_model(path, **kwargs):
    """Load a ``.keras`` model saved by skfer (e.g. ``skfer train``'s ``model.keras``).

    Keras finds custom layers only once their classes are registered; this
    function imports skfer's layers (:class:`RandomAffine`, :class:`FaceCrop`)
    and losses first, then calls :func:`keras.saving.load_model`. After
    ``import skfer.models``, ``keras.saving.load_model`` works as well.

    Parameters
    ----------
    path : str or path-like
        The ``.keras`` file.
    **kwargs
        Passed to :func:`keras.saving.load_model`.

    Returns
    -------
    keras.Model
        The model, compiled as it was saved.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skfer.models import build_dcnn, load_model
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "dcnn.keras"
    >>> build_dcnn(filters=(4,), kernel_sizes=3, dropout=0.1, dense_units=8).save(path)
    >>> load_model(path).count_params() > 0
    True
    """
    return keras.saving.load_model(path, **kwargs)
