"""parallel_config: joblib's, with each Dask or Ray worker's Keras kept to its cores."""

import contextlib

import joblib
from .._validation import Options, validate_params

BACKENDS = ("dask", "ray")


@validate_params(
    {
        "backend": [Options(set(BACKENDS))],
        "n_jobs": [int, None],
        "client": "no_validation",
        "gpu_memory_growth": ["boolean"],
    },
)
@contextlib.contextmanager
def parallel_config(backend, *, n_jobs=None, client=None, gpu_memory_growth=True, **backend_params):
    """Run scikit-learn's parallel loops on a Dask or Ray cluster, one share of cores per worker.

    A drop-in replacement for :func:`joblib.parallel_config` around
    ``GridSearchCV.fit``, ``cross_validate`` and the like: the search code
    stays unchanged, its fits run on the cluster's workers. Before the loop
    starts, every worker process gets the environment of
    :func:`worker_environment` for its share of its machine's cores (the
    machine's cores divided by its worker processes), so that TensorFlow,
    which otherwise starts threads for every core in every worker, keeps to
    that share, and takes GPU memory as it needs it.

    - ``"dask"``: uses the current ``dask.distributed`` client (or
      ``client``). Workers whose environment differs are restarted once with
      it (a Dask nanny plugin); later calls find it set and restart nothing.
      Large arguments (the training data) are sent to the workers once per
      search; pass ``scatter=[X, y]`` to broadcast them to every worker
      up front.
    - ``"ray"``: uses the running Ray instance, or starts a local one. Each
      of ``n_jobs`` actors (default: one per CPU) reserves its share of CPUs
      and starts with the environment (``runtime_env``).

    Parameters
    ----------
    backend : {"dask", "ray"}
        The joblib backend. Needs ``pip install "skfer[dask]"`` or
        ``pip install "skfer[ray]"``.
    n_jobs : int, default=None
        Parallel tasks. None: every worker thread (Dask) or one per CPU
        (Ray).
    client : distributed.Client, default=None
        Dask only: the client of the cluster; the current client if None.
    gpu_memory_growth : bool, default=True
        Whether workers take GPU memory as they need it.
    **backend_params
        Passed to :func:`joblib.parallel_config`, e.g. ``scatter=[X, y]``
        for Dask.

    Yields
    ------
    None
        Inside the block, joblib's parallel loops run on the cluster.

    Raises
    ------
    ImportError
        If the backend's packages are not installed.
    ValueError
        If the Dask cluster has no workers, or workers without a nanny
        (threads of one process cannot be given an environment).

    See Also
    --------
    worker_environment : The variables each worker gets.

    Examples
    --------
    >>> from distributed import Client, LocalCluster  # doctest: +SKIP
    >>> from sklearn.model_selection import GridSearchCV
    >>> from skfer import FERClassifier, make_fer_pipeline
    >>> from skfer.parallel import parallel_config
    >>> search = GridSearchCV(make_fer_pipeline(FERClassifier(epochs=2)),
    ...                       {"ferclassifier__dropout": [0.2, 0.4]}, cv=3)
    >>> client = Client(LocalCluster(n_workers=2, threads_per_worker=1))  # doctest: +SKIP
    >>> with parallel_config("dask"):  # doctest: +SKIP
    ...     search.fit(X, y)
    """
    try:
        if backend == "dask":
            from ._dask import configure_workers
        else:
            import ray  # noqa: F401

            from ._ray import ray_backend_params
    except ImportError as exc:
        raise ImportError(
            f"parallel_config({backend!r}) needs {backend}: pip install \"skfer[{backend}]\" "
            f"({exc})."
        ) from exc
    if backend == "dask":
        configure_workers(client, gpu_memory_growth=gpu_memory_growth)
        given = {"n_jobs": n_jobs, "client": client}
        params = {key: value for key, value in given.items() if value is not None}
    else:
        params = ray_backend_params(n_jobs, gpu_memory_growth)
    params.update(backend_params)
    with joblib.parallel_config(backend=backend, **params):
        yield
