"""Options that start the actors of Ray's joblib backend with the worker environment."""

from ._threads import cores_per_worker, worker_environment


def ray_backend_params(n_jobs=None, gpu_memory_growth=True):
    """``n_jobs`` and ``ray_remote_args`` for ``joblib.parallel_config(backend="ray")``.

    Starts a local Ray instance if none is running (or connects to
    ``RAY_ADDRESS``). Each of the ``n_jobs`` actors reserves, and is limited
    to, its share of the cluster's CPUs.
    """
    import ray
    from ray.util.joblib import register_ray

    if not ray.is_initialized():
        ray.init()
    register_ray()
    cpus = int(ray.cluster_resources()["CPU"])
    n_jobs = cpus if n_jobs in (None, -1) else n_jobs
    share = cores_per_worker(cpus, n_jobs)
    env = worker_environment(share, gpu_memory_growth=gpu_memory_growth)
    return {
        "n_jobs": n_jobs,
        "ray_remote_args": {"num_cpus": share, "runtime_env": {"env_vars": env}},
    }
