"""The FER2013 models shipped with skfer, loaded without any download."""

from ._load import DEFAULT_MODEL, MODELS, load_pretrained

__all__ = ["DEFAULT_MODEL", "MODELS", "load_pretrained"]
