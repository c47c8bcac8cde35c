"""Load the FER2013 model shipped inside skfer, ready to predict, offline."""

import json
from importlib import resources

import numpy as np

from .._classifier import FERClassifier
from .._constants import EMOTIONS, N_PIXELS
from .._pipeline import make_fer_pipeline
from ..models._dcnn import OUTPUT_LAYER

_CARD = "fer2013_dcnn.json"


def load_pretrained():
    """Return skfer's pretrained FER2013 model as a fitted pipeline.

    The model is the seed DCNN trained on FER2013's Training split with
    flips and shifts as augmentation, chosen on PublicTest, where it scores
    66.4% accuracy (``benchmarks/results/flip_shift_gpu/metrics.json``; see
    ``docs/model_card.md`` for its data, recipe and limits). Its weights
    ship with the package, so nothing is downloaded.

    Returns
    -------
    FERPipeline
        Fitted steps PixelStringTransformer -> PixelNormalizer (scale to
        [0, 1]) -> FERClassifier. It takes FER2013 pixel strings or 48x48
        grayscale faces with values 0-255, of shape (n, 2304), (n, 48, 48) or
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
    folder = resources.files(__package__)
    card = json.loads(folder.joinpath(_CARD).read_text(encoding="utf-8"))
    classifier = FERClassifier(**card["classifier_params"])
    blank = np.zeros((len(EMOTIONS), N_PIXELS), dtype=np.float32)
    classifier.initialize(blank, np.arange(len(EMOTIONS)))
    with resources.as_file(folder.joinpath(card["weights"])) as weights:
        classifier.model_.load_weights(weights)
    # The output units were trained in the order ``output_classes``; move them
    # to FER2013's label order.
    units = [card["output_classes"].index(name) for name in EMOTIONS]
    output = classifier.model_.get_layer(OUTPUT_LAYER)
    kernel, bias = output.get_weights()
    output.set_weights([kernel[:, units], bias[units]])
    pipeline = make_fer_pipeline(classifier)
    pipeline[:-1].fit(blank)
    return pipeline
