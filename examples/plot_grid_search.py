"""
======================================
Sweeping optimizer and dropout with CV
======================================

:class:`~skfer.FERClassifier` is a scikit-learn classifier, so
:class:`~sklearn.model_selection.GridSearchCV` tunes it like any other:
``cv=3`` gives stratified folds (every emotion in every fold), and the
network's parameters are swept by name through the pipeline.

This is the README's sweep: the default network and recipe, trained from
scratch for 8 epochs on 3,000 Training faces, 2 optimizers x 2 dropout
rates, 3 folds (12 fits, about half an hour on two CPU cores). Its measured
scores are in ``benchmarks/results/readme_checks.md``: every cell scores
well above chance, light dropout leads heavy dropout by many times the
spread over folds, and the two optimizers tie within that spread. The gallery builds a smaller run (400 faces, 1 epoch), whose scores
show the table, not the result.
"""

# %%
# The pipeline and the grid
# -------------------------
import os

import pandas as pd
from sklearn.model_selection import GridSearchCV, train_test_split

from skfer import FERClassifier, load_fer2013, make_fer_pipeline

train = load_fer2013(usage="Training")
QUICK = os.environ.get("SKFER_EXAMPLES") == "quick"  # a smaller run: how CI runs the gallery
X, _, y, _ = train_test_split(
    train.data, train.target, train_size=400 if QUICK else 3000, stratify=train.target, random_state=0
)
pipe = make_fer_pipeline(FERClassifier(epochs=1 if QUICK else 8, random_state=0))
grid = {"ferclassifier__optimizer": ["adamw", "nadam"], "ferclassifier__dropout": [0.1, 0.4]}
search = GridSearchCV(pipe, grid, cv=3).fit(X, y)

# %%
# The ``cv_results_`` table
# -------------------------
columns = ["param_ferclassifier__optimizer", "param_ferclassifier__dropout",
           "mean_test_score", "std_test_score", "rank_test_score", "mean_fit_time"]
table = pd.DataFrame(search.cv_results_)[columns].sort_values("rank_test_score")
print(table.to_string(index=False))
print("best:", search.best_params_)
