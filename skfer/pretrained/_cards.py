"""The shipped models' cards and files: what each model is and where its files lie (no TensorFlow)."""

import hashlib
import json
from importlib import resources

#: Model card (JSON) of each shipped model, by name.
MODELS = {
    "flip_shift": "fer2013_dcnn.json",
    "crop_cosine": "fer2013_crop_cosine.json",
    "crop_cosine_k3_relu": "fer2013_crop_cosine_k3_relu.json",
    "crop_cosine_k3_relu_40ep": "fer2013_crop_cosine_k3_relu_40ep.json",
}
#: The model ``load_pretrained()`` returns: the shipped single model with the
#: best PublicTest accuracy as it predicts by default
#: (``benchmarks/results/tta_pretrained.json``; its card has the figures).
DEFAULT_MODEL = "crop_cosine_k3_relu"
#: Metadata key of a shipped int8 engine: the SHA-256 of the weights file it was made from.
WEIGHTS_SHA256 = "skfer.weights_sha256"


def read_card(name):
    """Model ``name``'s card: its parameters, weights file, classes and figures.

    Examples
    --------
    >>> from skfer.pretrained._cards import read_card
    >>> read_card("crop_cosine")["weights"]
    'fer2013_crop_cosine.weights.h5'
    """
    if name not in MODELS:
        raise ValueError(f"Unknown pretrained model {name!r}; choose one of {sorted(MODELS)}.")
    return json.loads(shipped_file(MODELS[name]).read_text("utf-8"))


def shipped_file(name):
    """The file ``name`` shipped in ``skfer/pretrained/``."""
    return resources.files(__package__).joinpath(name)


def engine_file(card):
    """The file name of the int8 engine shipped for the model of ``card`` (``benchmarks/pretrained_int8.py`` writes it).

    Examples
    --------
    >>> from skfer.pretrained._cards import engine_file, read_card
    >>> engine_file(read_card("crop_cosine"))
    'fer2013_crop_cosine.int8.onnx'
    """
    return card["weights"].replace(".weights.h5", ".int8.onnx")


def weights_sha256(card):
    """SHA-256 of the weights file shipped for the model of ``card``."""
    return hashlib.sha256(shipped_file(card["weights"]).read_bytes()).hexdigest()


def check_engine(card, metadata):
    """Raise a RuntimeError unless the engine whose ONNX ``metadata`` this is was made from ``card``'s weights."""
    if metadata.get(WEIGHTS_SHA256) != weights_sha256(card):
        raise RuntimeError(
            f"skfer/pretrained/{engine_file(card)} was not made from {card['weights']}; "
            "write it again with python benchmarks/pretrained_int8.py."
        )
