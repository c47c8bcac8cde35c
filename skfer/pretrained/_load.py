"""Load the FER2013 models shipped inside skfer, ready to predict, offline."""

from importlib import resources

import numpy as np

from .._constants import EMOTIONS, N_PIXELS
from ..estimator._classifier import FERClassifier
from ..estimator._pipeline import make_fer_pipeline
from ..inference._engine import INT8, Int8Engine
from ..models._dcnn import OUTPUT_LAYER
from ..models._inference import PREDICT_DTYPES
from ._cards import DEFAULT_MODEL, check_engine, engine_file, read_card, shipped_file

def _shipped_engine(card):
    """The int8 engine of the model of ``card``, checked to be made from the weights shipped beside it."""
    engine = Int8Engine(shipped_file(engine_file(card)).read_bytes())
    check_engine(card, engine.metadata)
    return engine


def pipeline_from_card(card, predict_dtype=INT8):
    """The fitted pipeline of the model of ``card``, from the weights (and int8 engine) shipped beside it.

    Examples
    --------
    >>> from skfer.pretrained._load import pipeline_from_card
    >>> from skfer.pretrained._cards import read_card
    >>> pipeline_from_card(read_card("crop_cosine"), "float32")[-1].predict_dtype
    'float32'
    """
    classifier = FERClassifier(**{**card["classifier_params"], "predict_dtype": "float32"})
    blank = np.zeros((len(EMOTIONS), N_PIXELS), dtype=np.float32)
    classifier.initialize(blank, np.arange(len(EMOTIONS)))
    with resources.as_file(shipped_file(card["weights"])) as weights:
        classifier.model_.load_weights(weights)
    # The output units were trained in the order ``output_classes``; move them
    # to FER2013's label order.
    units = [card["output_classes"].index(name) for name in EMOTIONS]
    output = classifier.model_.get_layer(OUTPUT_LAYER)
    kernel, bias = output.get_weights()
    output.set_weights([kernel[:, units], bias[units]])
    if predict_dtype == INT8:
        classifier.engine_ = _shipped_engine(card)
        classifier.engine_.bind(classifier.model_)  # the weights its hash names
    classifier.set_params(predict_dtype=predict_dtype)
    pipeline = make_fer_pipeline(classifier)
    pipeline[:-1].fit(blank)
    return pipeline


def load_pretrained(model=DEFAULT_MODEL, *, predict_dtype=INT8):
    """Return a FER2013 model shipped with skfer as a fitted pipeline.

    The weights ship inside the package, so nothing is downloaded. Each
    model was trained on FER2013's Training split and chosen on PublicTest,
    whose accuracy is therefore validation accuracy; ``docs/model_card.md``
    gives each one's data, recipe, figures and limits.

    Parameters
    ----------
    model : str, default=DEFAULT_MODEL
        A name of :data:`MODELS` (the default is the one with the best
        PublicTest accuracy). No ensemble is shipped: the best soft vote of
        the shipped models beat its best member with flips by less than the
        1 point an ensemble must earn (``python benchmarks/tta_fer2013.py``,
        ``ensemble_rule`` in ``benchmarks/results/tta_pretrained.json``).
    predict_dtype : {"int8", "float32", "bfloat16", "auto"}, default="int8"
        The classifier's ``predict_dtype``. ``"int8"`` predicts with ONNX
        Runtime on the 8-bit copy of the network shipped beside its weights
        (checked to be made from them): several times faster than float32
        on any x86 CPU; its PublicTest accuracy is close to float32's (the
        model card, ``docs/model_card.md``, gives both), and its
        probabilities differ from float32's in the second decimal.
        ``"float32"`` predicts with Keras, exactly.

    Returns
    -------
    FERPipeline or VotingClassifier
        Fitted: PixelStringTransformer -> PixelNormalizer (scale to [0, 1])
        -> FERClassifier with ``predict_dtype`` (change it later with
        ``set_params(ferclassifier__predict_dtype="float32")``). It takes FER2013 pixel strings or 48x48 grayscale
        faces with values 0-255, of shape (n, 2304), (n, 48, 48) or
        (n, 48, 48, 1). ``classes_`` are FER2013's labels 0-6, the order of
        :data:`skfer.EMOTIONS` and the labels :func:`load_fer2013` returns,
        so ``score`` and scikit-learn's metrics and displays take the
        loader's targets as they are (emotion names work as well in
        ``score``); ``EMOTIONS[label]`` names a prediction. The columns of
        ``predict_proba`` follow ``classes_``.

    See Also
    --------
    skfer.make_fer_pipeline : Build the same pipeline untrained, to fit on your data.

    Examples
    --------
    >>> import numpy as np
    >>> from skfer.pretrained import load_pretrained
    >>> model = load_pretrained()
    >>> model.classes_.tolist()
    [0, 1, 2, 3, 4, 5, 6]
    >>> faces = np.full((2, 48, 48), 128, dtype=np.uint8)
    >>> model.predict_proba(faces).sum(axis=1).round(3)
    array([1., 1.], dtype=float32)
    """
    if predict_dtype not in (INT8, *PREDICT_DTYPES):
        raise ValueError(
            f"predict_dtype must be one of {[INT8, *PREDICT_DTYPES]}; got {predict_dtype!r}."
        )
    return pipeline_from_card(read_card(model), predict_dtype)
