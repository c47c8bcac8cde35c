"""Apply the worker environment to the processes of a dask.distributed cluster."""

import time
from collections import Counter

from distributed import get_client
from distributed.diagnostics.plugin import NannyPlugin
from distributed.comm import get_address_host

from ._threads import cores_per_worker, usable_cores, worker_environment

_PLUGIN_NAME = "skfer-worker-environment"
_SHARE = "TF_NUM_INTRAOP_THREADS"
#: Seconds the restarted workers may take to come back (a busy machine is slow).
_RESTART_TIMEOUT = 600


class _WorkerEnvironment(NannyPlugin):
    """Give each host's worker processes their environment, then restart them.

    A restarted worker is a new process, so TensorFlow has not started in it
    yet when it reads the variables. Workers on hosts that join later get
    the smallest share of the known hosts.
    """

    restart = True
    idempotent = False

    def __init__(self, environ_by_host):
        self.environ_by_host = environ_by_host
        self.fallback = min(environ_by_host.values(), key=lambda env: int(env[_SHARE]))

    def setup(self, nanny):
        host = get_address_host(nanny.address)
        nanny.env.update(self.environ_by_host.get(host, self.fallback))


def _worker_state(keys):
    import os

    return usable_cores(), {key: os.environ.get(key) for key in keys}


def configure_workers(client=None, gpu_memory_growth=True):
    """Set every worker's environment from its host's cores and workers; restart if changed.

    Returns the environment by host (restarted workers get new addresses).
    """
    client = get_client() if client is None else client
    workers = client.scheduler_info()["workers"]
    if not workers:
        raise ValueError(
            "The Dask cluster has no workers; start some (e.g. "
            "LocalCluster(n_workers=2, threads_per_worker=1)) before the sweep."
        )
    no_nanny = [address for address, info in workers.items() if not info.get("nanny")]
    if no_nanny:
        raise ValueError(
            f"Dask workers {no_nanny} run without a nanny, so their environment cannot be "
            "set before TensorFlow starts in them. Start worker processes with nannies "
            "(the default; LocalCluster(processes=True))."
        )
    keys = tuple(worker_environment(1, gpu_memory_growth=gpu_memory_growth))
    state = client.run(_worker_state, keys)
    per_host = Counter(info["host"] for info in workers.values())
    environ_by_host = {}
    for address, info in workers.items():
        share = cores_per_worker(state[address][0], per_host[info["host"]])
        env = worker_environment(share, gpu_memory_growth=gpu_memory_growth)
        environ_by_host[get_address_host(info["nanny"])] = env
    if not _all_set(client, keys, environ_by_host, len(workers)):
        client.register_plugin(_WorkerEnvironment(environ_by_host), name=_PLUGIN_NAME)
        _wait_until_set(client, keys, environ_by_host, len(workers))
    return environ_by_host


def _all_set(client, keys, environ_by_host, n_workers):
    """Whether ``n_workers`` workers run, each with its host's environment."""
    workers = client.scheduler_info()["workers"]
    state = client.run(_worker_state, keys, on_error="ignore")
    return len(state) >= n_workers and all(
        address in workers
        and env == environ_by_host.get(get_address_host(workers[address]["nanny"]))
        for address, (_, env) in state.items()
    )


def _wait_until_set(client, keys, environ_by_host, n_workers):
    """Wait for the restarted workers: the plugin may return before they are back."""
    deadline = time.monotonic() + _RESTART_TIMEOUT
    while not _all_set(client, keys, environ_by_host, n_workers):
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"The Dask workers did not come back with their thread limits within "
                f"{_RESTART_TIMEOUT} s of being restarted."
            )
        time.sleep(0.5)
