"""The environment that keeps each worker's Keras to its share of the cores."""

import os
from numbers import Integral

from .._validation import Interval, validate_params

#: Variables read once, when a process first starts TensorFlow's runtime or an
#: OpenMP/BLAS library: TensorFlow's own pool sizes, then the math libraries'.
_THREAD_VARIABLES = (
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
)
#: GPU memory is taken as needed instead of all at once (TensorFlow, then JAX).
_GPU_GROWTH = {"TF_FORCE_GPU_ALLOW_GROWTH": "true", "XLA_PYTHON_CLIENT_PREALLOCATE": "false"}


@validate_params(
    {"n_threads": [Interval(Integral, 1, None, closed="left")], "gpu_memory_growth": ["boolean"]},
)
def worker_environment(n_threads, *, gpu_memory_growth=True):
    """Environment variables that limit a worker process's Keras to ``n_threads`` cores.

    TensorFlow sizes its thread pools once, when a process first runs an
    operation, to every core of the machine. Several workers on one machine
    (a sweep on a Dask or Ray cluster) then each start that many threads and
    slow each other down. These variables, set before the worker process
    starts, make TensorFlow use ``n_threads`` threads for the operations
    themselves (``TF_NUM_INTRAOP_THREADS``) and for running independent
    operations side by side (``TF_NUM_INTEROP_THREADS``), and cap the
    OpenMP and BLAS libraries likewise. With ``gpu_memory_growth``, a worker
    takes GPU memory as it needs it instead of all of it at start, so that
    the next worker on the same GPU can start too.

    :func:`skfer.parallel.parallel_config` applies them to Dask and Ray
    workers; call this function for other launchers.

    Parameters
    ----------
    n_threads : int
        The cores of each worker: the machine's cores divided by its
        worker processes.
    gpu_memory_growth : bool, default=True
        Whether to add ``TF_FORCE_GPU_ALLOW_GROWTH=true`` (TensorFlow) and
        ``XLA_PYTHON_CLIENT_PREALLOCATE=false`` (JAX).

    Returns
    -------
    dict of str to str
        The variables. ``KERAS_BACKEND`` is included when it is set in this
        process, so that workers run the same backend.

    Examples
    --------
    >>> from skfer.parallel import worker_environment
    >>> env = worker_environment(2, gpu_memory_growth=False)
    >>> env["TF_NUM_INTRAOP_THREADS"], env["OMP_NUM_THREADS"]
    ('2', '2')
    """
    env = dict.fromkeys(_THREAD_VARIABLES, str(n_threads))
    if gpu_memory_growth:
        env.update(_GPU_GROWTH)
    if os.environ.get("KERAS_BACKEND"):
        env["KERAS_BACKEND"] = os.environ["KERAS_BACKEND"]
    return env


def cores_per_worker(cores, workers):
    """Each worker's share of a machine's ``cores``, at least one."""
    return max(1, cores // max(1, workers))


def usable_cores():
    """The cores this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
