"""
=============================================
Successive halving: epochs for the best only
=============================================

A full grid trains every candidate for all epochs. Successive halving
(:class:`~sklearn.model_selection.HalvingGridSearchCV`) with the
classifier's ``epochs`` as the resource trains all candidates for one
epoch, keeps the best third and trains those for three, and the best one
for nine. Here both searches sweep the same 9 candidates (learning rate x
dropout, the default network) with 2 stratified folds on 3,000 Training
faces; we compare the time they take and what they choose. The gallery
builds a smaller run (300 faces, a slimmer network); the full-size run
takes about half an hour on two CPU cores.
"""

# %%
# Two searches over the same grid
# -------------------------------
import os
import time

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import GridSearchCV, HalvingGridSearchCV, train_test_split

from skfer import FERClassifier, load_fer2013, make_fer_pipeline

fer = load_fer2013(usage="Training")
QUICK = os.environ.get("SKFER_EXAMPLES") == "quick"  # a smaller run: how CI runs the gallery
X, _, y, _ = train_test_split(fer.data, fer.target, train_size=300 if QUICK else 3000,
                              stratify=fer.target, random_state=0)
network = {"architecture__filters": (8, 16), "architecture__dense_units": 32} if QUICK else {}
pipe = make_fer_pipeline(FERClassifier(**network, epochs=9, random_state=0))
grid = {"ferclassifier__learning_rate": [5e-4, 2e-3, 8e-3],
        "ferclassifier__dropout": [0.1, 0.25, 0.4]}

start = time.perf_counter()
full = GridSearchCV(pipe, grid, cv=2).fit(X, y)
full_seconds = time.perf_counter() - start

start = time.perf_counter()
halving = HalvingGridSearchCV(pipe, grid, resource="ferclassifier__epochs",
                              min_resources=1, max_resources=9, factor=3, cv=2).fit(X, y)
halving_seconds = time.perf_counter() - start

# %%
# Rounds of the halving search
# ----------------------------
# 9 candidates get 1 epoch, the best 3 get 3 epochs, the best one 9: per
# fold 9 + 9 + 9 = 27 epochs, against 9 x 9 = 81 for the full grid.
results = pd.DataFrame(halving.cv_results_)
print(results[["iter", "param_ferclassifier__epochs", "param_ferclassifier__learning_rate",
               "param_ferclassifier__dropout", "mean_test_score"]].to_string(index=False))

# %%
# Time and choice
# ---------------
print(f"full grid: {full_seconds:.0f} s, chose {full.best_params_}, "
      f"CV score {full.best_score_:.3f}")
print(f"halving:   {halving_seconds:.0f} s, chose {halving.best_params_}, "
      f"CV score {halving.best_score_:.3f}")

fig, (ax_time, ax_rounds) = plt.subplots(1, 2, figsize=(9, 3))
ax_time.bar(["full grid", "halving"], [full_seconds, halving_seconds], color=["C0", "C1"])
ax_time.set_ylabel("seconds (all fits and the refit)")
for iteration, group in results.groupby("iter"):
    ax_rounds.scatter(group["param_ferclassifier__epochs"], group["mean_test_score"],
                      label=f"round {iteration}")
ax_rounds.set_xlabel("epochs")
ax_rounds.set_ylabel("mean CV accuracy")
ax_rounds.legend()
fig.tight_layout()
plt.show()
