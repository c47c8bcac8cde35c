"""
======================================
Sweeping optimizer and dropout with CV
======================================

:class:`~skfer.FERClassifier` is a scikit-learn classifier, so
:class:`~sklearn.model_selection.GridSearchCV` tunes it like any other:
``cv=3`` gives stratified folds (every emotion in every fold), and the
network's parameters are swept by name through the pipeline.

A quick demo: 2 optimizers x 2 dropout rates, 3 folds, on 2,000 real
Training faces for 2 epochs each, with a slimmed-down network. The scores
are low because the fits are short; the table is the point.
"""

# %%
# The pipeline and the grid
# -------------------------
import os

import pandas as pd
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline

from skfer import FERClassifier, PixelNormalizer, PixelStringTransformer, load_fer2013

train = load_fer2013(usage="Training")
QUICK = os.environ.get("SKFER_EXAMPLES") == "quick"  # a smaller run: how CI runs the gallery
X, _, y, _ = train_test_split(
    train.data, train.target, train_size=400 if QUICK else 2000, stratify=train.target, random_state=0
)
pipe = make_pipeline(
    PixelStringTransformer(),
    PixelNormalizer(),
    FERClassifier(architecture__filters=(16, 32, 64), architecture__dense_units=64, epochs=1 if QUICK else 2,
                  augmentation=None, batch_size=64, random_state=0),
)
grid = {"ferclassifier__optimizer": ["adam", "nadam"], "ferclassifier__dropout": [0.3, 0.5]}
search = GridSearchCV(pipe, grid, cv=3).fit(X, y)

# %%
# The ``cv_results_`` table
# -------------------------
columns = ["param_ferclassifier__optimizer", "param_ferclassifier__dropout",
           "mean_test_score", "std_test_score", "rank_test_score", "mean_fit_time"]
table = pd.DataFrame(search.cv_results_)[columns].sort_values("rank_test_score")
print(table.to_string(index=False))
print("best:", search.best_params_)
