"""
===============================
A grid search on a Dask cluster
===============================

The same :class:`~sklearn.model_selection.GridSearchCV`, run twice: in this
process (``n_jobs=1``) and on a local Dask cluster of two single-threaded
workers under :func:`skfer.parallel.parallel_config`, which keeps each
worker's TensorFlow to its share of the cores. With integer seeds the two
searches score the candidates the same, up to rounding: a fit on one
thread and the same fit on two can differ in the last bits of the weights,
which now and then flips a prediction. The cluster runs two fits at a
time.

A quick demo: 4 candidates x 2 folds = 8 fits of a small network for 2
epochs on 1,000 Training faces. A cluster pays off when fits take minutes:
here a good part of the time is the workers' start (TensorFlow is imported
in each), which is not timed. On a machine with other work running, the
timings vary; ``benchmarks/dask_sweep.py`` measures the speed-up and the
threads of each worker on an idle machine, and :ref:`benchmark-scaling`
gives what it measured on the project's 2-core CPU.
"""

# %%
# The faces and the search
# ------------------------
# Dask's workers are processes that import this script again, so everything
# that runs (not only defines) sits under ``if __name__ == "__main__":``, as
# it must in any script that starts a local cluster.
import os
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from distributed import Client, LocalCluster
from sklearn.model_selection import GridSearchCV

from skfer import FERClassifier, load_fer2013, make_fer_pipeline
from skfer.parallel import parallel_config

QUICK = os.environ.get("SKFER_EXAMPLES") == "quick"  # a smaller run: how CI runs the gallery


def make_search():
    clf = FERClassifier(architecture__filters=(8, 16), dropout=0.2, architecture__dense_units=32,
                        epochs=2, augmentation=None, random_state=0)
    grid = {"ferclassifier__dropout": [0.1, 0.4], "ferclassifier__learning_rate": [1e-3, 3e-3]}
    return GridSearchCV(make_fer_pipeline(clf), grid, cv=2)


if __name__ == "__main__":
    fer = load_fer2013(usage="Training")
    n = 300 if QUICK else 1000
    X, y = fer.data[:n], fer.target[:n]
    start = time.perf_counter()
    local = make_search().fit(X, y)
    local_seconds = time.perf_counter() - start

# %%
# The same search on two Dask workers
# -----------------------------------
# ``parallel_config("dask")`` replaces ``joblib.parallel_config``: it sets
# each worker's thread limits (restarting the workers once), then hands the
# search's fits to the cluster. The search code does not change.
if __name__ == "__main__":
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        with parallel_config("dask"):
            client.run(lambda: __import__("tensorflow").constant(0.0).numpy())  # start TF first
            start = time.perf_counter()
            on_dask = make_search().fit(X, y)
            dask_seconds = time.perf_counter() - start
        threads = client.run(lambda: __import__("os").environ["TF_NUM_INTRAOP_THREADS"])

    print("TensorFlow threads per worker:", sorted(threads.values()))
    table = pd.DataFrame({
        "dropout": local.cv_results_["param_ferclassifier__dropout"],
        "learning rate": local.cv_results_["param_ferclassifier__learning_rate"],
        "score, n_jobs=1": local.cv_results_["mean_test_score"],
        "score, Dask": on_dask.cv_results_["mean_test_score"],
    })
    print(table.to_string(index=False))
    print("same scores:", np.array_equal(local.cv_results_["mean_test_score"],
                                         on_dask.cv_results_["mean_test_score"]))

# %%
# Time spent
# ----------
if __name__ == "__main__":
    fig, ax = plt.subplots(figsize=(5, 2.2))
    ax.barh(["2 Dask workers", "n_jobs=1"], [dask_seconds, local_seconds], color=["C1", "C0"])
    ax.set_xlabel("seconds for 8 fits and the refit")
    ax.set_title(f"Speed-up {local_seconds / dask_seconds:.2f}x")
    fig.tight_layout()
    plt.show()
