"""Sweeps on Dask and Ray give n_jobs=1's results, each worker's TensorFlow kept to its cores."""

import json
import os
import random
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV

from skfer import FERClassifier, make_fer_pipeline
from skfer.parallel import parallel_config, worker_environment

from .conftest import TINY


def test_worker_environment_limits_every_pool():
    env = worker_environment(3)
    pools = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS")
    assert {env[name] for name in pools} == {"3"}
    assert env["TF_FORCE_GPU_ALLOW_GROWTH"] == "true"
    assert "TF_FORCE_GPU_ALLOW_GROWTH" not in worker_environment(1, gpu_memory_growth=False)
    with pytest.raises(ValueError, match="n_threads"):
        worker_environment(0)


def test_unknown_backend_is_named():
    with pytest.raises(ValueError, match="backend"):
        with parallel_config("spark"):
            pass


def _search(n_jobs=None):
    clf = FERClassifier(**{**TINY, "epochs": 2}, random_state=0)
    grid = {"ferclassifier__dropout": [0.1, 0.5], "ferclassifier__learning_rate": [1e-3, 3e-2]}
    return GridSearchCV(make_fer_pipeline(clf), grid, cv=2, refit=False, n_jobs=n_jobs)


_SCORES = ("split0_test_score", "split1_test_score", "mean_test_score", "rank_test_score")


def _n_jobs_1_results(X, y, env, folder):
    """The search's scores with n_jobs=1, in a fresh process with a worker's thread limits.

    A fit's last bits depend on the threads that share its sums, so the
    reference fits run with the threads each worker gets (this test process
    has already started TensorFlow with all cores).
    """
    np.save(folder / "X.npy", X)
    np.save(folder / "y.npy", y)
    script = (
        "import json, sys, numpy as np\n"
        "from tests.test_parallel import _SCORES, _search\n"
        "X, y = np.load(sys.argv[1]), np.load(sys.argv[2])\n"
        "r = _search().fit(X, y).cv_results_\n"
        "print(json.dumps({k: r[k].tolist() for k in _SCORES}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(folder / "X.npy"), str(folder / "y.npy")],
        capture_output=True, text=True, env={**os.environ, **env}, cwd=Path(__file__).parents[1],
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return {k: np.asarray(v) for k, v in json.loads(done.stdout.splitlines()[-1]).items()}


@pytest.fixture(scope="module")
def dask_sweep(tmp_path_factory):
    """The same search with n_jobs=1 and on a 2-worker LocalCluster, and what the cluster saw."""
    distributed = pytest.importorskip("distributed", reason="needs the dask extra")
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 20)
    X = rng.integers(0, 120, size=(60, 2304)).astype(np.float32)
    X[:, :768] += 60 * y[:, None]
    share = max(1, len(os.sched_getaffinity(0)) // 2)
    expected = _n_jobs_1_results(X, y, worker_environment(share), tmp_path_factory.mktemp("sweep"))
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None)
    with cluster, distributed.Client(cluster) as client:
        scattered = []
        scatter = client.scatter

        def counting_scatter(data, *args, **kwargs):
            scattered.append(data)
            return scatter(data, *args, **kwargs)

        client.scatter = counting_scatter
        with parallel_config("dask"):
            got = _search().fit(X, y).cv_results_
        envs = client.run(lambda: {k: os.environ.get(k) for k in worker_environment(share)})
        workers = set(client.scheduler_info()["workers"])
        with parallel_config("dask"):
            pass
        kept = set(client.scheduler_info()["workers"]) == workers
    return {"expected": expected, "got": got, "envs": envs, "share": share, "kept": kept,
            "X_sent": sum(data is X for data in scattered)}


@pytest.mark.extra
def test_dask_workers_get_thread_limits_and_the_data_once(dask_sweep):
    assert list(dask_sweep["envs"].values()) == [worker_environment(dask_sweep["share"])] * 2
    assert dask_sweep["kept"]  # entering again finds the workers set: no restart
    assert dask_sweep["X_sent"] == 1  # the faces went to the cluster once


def test_seeded_fit_is_repeatable_while_another_thread_draws_random_numbers(faces):
    # A Dask worker draws from Python's global generator (to sample its
    # messages for compression) while a fit builds its network in another thread.
    X, y = faces
    X = X / 255

    def weights():
        clf = FERClassifier(**{**TINY, "epochs": 1}, random_state=0).fit(X, y)
        return clf.model_.get_weights()

    expected = weights()
    stop = threading.Event()
    def draw():
        while not stop.is_set():
            random.random()  # nothing kept: a list of the draws grew by gigabytes during the fit

    drawer = threading.Thread(target=draw)
    drawer.start()
    try:
        got = weights()
    finally:
        stop.set()
        drawer.join()
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)


@pytest.mark.extra
def test_dask_sweep_scores_match_n_jobs_1(dask_sweep):
    for key in _SCORES:
        np.testing.assert_array_equal(dask_sweep["got"][key], dask_sweep["expected"][key], key)


@pytest.mark.slow
@pytest.mark.extra
def test_ray_sweep_matches_n_jobs_1_with_limited_threads(faces):
    ray = pytest.importorskip("ray", reason="needs the ray extra")
    from joblib import Parallel, delayed

    X, y = faces
    expected = _search().fit(X, y).cv_results_
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        with parallel_config("ray", n_jobs=2):
            got = _search().fit(X, y).cv_results_
            # A lambda: ``os.environ.get`` would be pickled with the client's os.environ.
            intra_op = lambda: os.environ.get("TF_NUM_INTRAOP_THREADS")  # noqa: E731
            envs = Parallel()(delayed(intra_op)() for _ in range(4))
    finally:
        ray.shutdown()
    assert envs == ["1"] * 4  # 2 CPUs, 2 actors
    np.testing.assert_array_equal(got["mean_test_score"], expected["mean_test_score"])
