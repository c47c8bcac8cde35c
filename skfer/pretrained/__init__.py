"""The FER2013 model shipped with skfer, loaded without any download."""

from ._load import load_pretrained

__all__ = ["load_pretrained"]
