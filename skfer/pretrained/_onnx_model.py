"""A shipped model's 8-bit engine as a fitted pipeline that needs neither TensorFlow nor Keras."""

from importlib import resources

import numpy as np
from sklearn.pipeline import make_pipeline

from .._constants import N_PIXELS
from ..inference._onnx import ONNXEmotionPredictor
from ..preprocessing import PixelNormalizer, PixelStringTransformer
from ._cards import DEFAULT_MODEL, check_engine, engine_file, read_card, shipped_file


def load_pretrained_onnx(model=DEFAULT_MODEL):
    """Return a shipped FER2013 model's 8-bit engine as a fitted pipeline, without TensorFlow.

    The same engine :func:`load_pretrained` predicts with by default (the
    same probabilities), behind the same preprocessing, run by ONNX Runtime
    alone: importing and calling it loads neither TensorFlow nor Keras, so
    it starts in a fraction of the time and memory. It predicts only; to
    fine-tune or to predict in float32, use :func:`load_pretrained`.

    Parameters
    ----------
    model : str, default=DEFAULT_MODEL
        A name of :data:`MODELS`.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Fitted: PixelStringTransformer -> PixelNormalizer -> ONNXEmotionPredictor.
        It takes FER2013 pixel strings or 48x48 faces with values 0-255;
        ``classes_`` are FER2013's labels 0-6.

    Raises
    ------
    ValueError
        For an unknown model name.
    RuntimeError
        If the shipped engine was not made from the weights shipped beside it.

    Examples
    --------
    >>> import numpy as np
    >>> from skfer.pretrained import load_pretrained_onnx
    >>> model = load_pretrained_onnx()
    >>> model.classes_.tolist()
    [0, 1, 2, 3, 4, 5, 6]
    >>> model.predict_proba(np.full((2, 48, 48), 128, dtype=np.uint8)).shape
    (2, 7)
    """
    card = read_card(model)
    with resources.as_file(shipped_file(engine_file(card))) as path:
        predictor = ONNXEmotionPredictor(path)
        pipeline = make_pipeline(PixelStringTransformer(), PixelNormalizer(), predictor)
        pipeline.fit(np.zeros((1, N_PIXELS), dtype=np.float32))
    check_engine(card, predictor.session_.get_modelmeta().custom_metadata_map)
    return pipeline
