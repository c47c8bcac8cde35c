"""Speed-up of a Dask sweep on 2 workers over 1, threads per worker, and results against n_jobs=1.

An 8-fit sweep (4 candidates x 2 folds) of small FERClassifiers on random
faces runs three times: with ``n_jobs=1`` in this process, then on a
``LocalCluster`` of 1 and of 2 single-threaded workers under
``skfer.parallel.parallel_config("dask")``. The workers start (and import
TensorFlow) before the clock starts. During each cluster sweep a sampler
reads ``/proc/<worker pid>/task`` every 0.1 s: the threads each worker has,
those that did more than 5% of the worker's CPU work over the sweep (busy
threads), and how many of the workers' threads were runnable at once.

The figures are only meaningful on an otherwise idle machine; the load
averages before and after are recorded with them.

Results go to ``benchmarks/results/dask_sweep.json``.

Example
-------
::

    python benchmarks/dask_sweep.py            # 8 fits, 2 epochs, 1,024 faces
"""

import argparse
import json
import os
import threading
import time
from pathlib import Path

import numpy as np
from distributed import Client, LocalCluster
from sklearn.model_selection import GridSearchCV

from skfer.experiments import machine
from skfer import FERClassifier, make_fer_pipeline
from skfer.parallel import parallel_config

RESULTS = Path(__file__).resolve().parent / "results"
TICK = os.sysconf("SC_CLK_TCK")


def search(epochs):
    clf = FERClassifier(architecture__filters=(8, 16), dropout=0.2, architecture__dense_units=32,
                        epochs=epochs, augmentation=None, random_state=0)
    grid = {"ferclassifier__dropout": [0.1, 0.4], "ferclassifier__learning_rate": [1e-3, 3e-3]}
    return GridSearchCV(make_fer_pipeline(clf), grid, cv=2, refit=False)


def thread_stats(pid):
    """{thread id: (state, CPU seconds)} of a process."""
    stats = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            fields = Path(f"/proc/{pid}/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[tid] = (fields[0], (int(fields[11]) + int(fields[12])) / TICK)
    return stats


class Sampler(threading.Thread):
    """Sample the worker processes' threads until stopped."""

    def __init__(self, pids):
        super().__init__(daemon=True)
        self.pids, self.stop, self.runnable, self.counts = pids, threading.Event(), [], {}
        self.start_cpu = {pid: thread_stats(pid) for pid in pids}

    def run(self):
        while not self.stop.wait(0.1):
            stats = {pid: thread_stats(pid) for pid in self.pids}
            self.runnable.append(sum(s == "R" for st in stats.values() for s, _ in st.values()))
            for pid, st in stats.items():
                self.counts[pid] = max(self.counts.get(pid, 0), len(st))

    def report(self, seconds):
        end = {pid: thread_stats(pid) for pid in self.pids}
        workers = []
        for pid in self.pids:
            used = {tid: cpu - self.start_cpu[pid].get(tid, ("", 0.0))[1] for tid, (_, cpu) in end[pid].items()}
            total = sum(used.values())
            busy = [round(cpu, 2) for cpu in sorted(used.values(), reverse=True) if cpu > 0.05 * total]
            workers.append({"threads": self.counts.get(pid, len(end[pid])), "busy_threads": len(busy),
                            "busy_thread_cpu_seconds": busy,
                            "cpu_seconds": round(total, 2)})
        return {"workers": workers,
                "busy_threads_total": sum(w["busy_threads"] for w in workers),
                "runnable_threads_mean": round(float(np.mean(self.runnable or [0])), 2),
                "runnable_threads_max": int(max(self.runnable or [0]))}


def on_cluster(n_workers, X, y, epochs):
    with LocalCluster(n_workers=n_workers, threads_per_worker=1, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        with parallel_config("dask"):
            client.run(lambda: __import__("tensorflow").constant(1.0).numpy())  # start TF
            pids = list(client.run(os.getpid).values())
            env = client.run(lambda: os.environ["TF_NUM_INTRAOP_THREADS"])
            sampler = Sampler(pids)
            sampler.start()
            start = time.perf_counter()
            result = search(epochs).fit(X, y)
            seconds = time.perf_counter() - start
            sampler.stop.set()
            sampler.join()
        return result, seconds, {"intra_op_threads": sorted(env.values()), **sampler.report(seconds)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--faces", type=int, default=1024)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    y = rng.integers(0, 7, args.faces)
    X = rng.integers(0, 256, (args.faces, 2304)).astype(np.float32)
    before = {**machine(), "load_average": os.getloadavg()}
    start = time.perf_counter()
    reference = search(args.epochs).fit(X, y)
    serial = time.perf_counter() - start
    runs = {n: on_cluster(n, X, y, args.epochs) for n in (1, 2)}
    scores = reference.cv_results_["mean_test_score"]
    record = {
        "command": f"python benchmarks/dask_sweep.py --faces {args.faces} --epochs {args.epochs}",
        "fits": len(scores) * 2,
        "n_jobs_1_seconds": round(serial, 2),
        "n_jobs_1_threads": os.environ.get("TF_NUM_INTRAOP_THREADS", "TensorFlow's default (one per core)"),
        "n_jobs_1_mean_test_scores": scores.round(4).tolist(),
        "workers": {
            str(n): {"seconds": round(seconds, 2),
                     "same_scores_as_n_jobs_1": bool(np.array_equal(result.cv_results_["mean_test_score"], scores)),
                     "mean_test_scores": result.cv_results_["mean_test_score"].round(4).tolist(),
                     "max_score_difference": round(float(np.abs(result.cv_results_["mean_test_score"] - scores).max()), 4),
                     **threads}
            for n, (result, seconds, threads) in runs.items()
        },
        "speed_up_2_over_1_worker": round(runs[1][1] / runs[2][1], 2),
        "machine_before": before,
        "machine_after": {**machine(), "load_average": os.getloadavg()},
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "dask_sweep.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
