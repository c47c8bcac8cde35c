"""Sweeps on Dask and Ray clusters with each worker's Keras kept to its share of the cores."""

from ._config import parallel_config
from ._threads import worker_environment

__all__ = ["parallel_config", "worker_environment"]
