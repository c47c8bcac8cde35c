"""Successive halving over epochs: few epochs for every candidate, more for the best."""

import numpy as np
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import HalvingGridSearchCV

from skfer import FERClassifier, make_fer_pipeline

from .conftest import TINY


def test_halving_grid_search_spends_epochs_on_the_best_candidates(faces):
    X, y = faces
    grid = {"ferclassifier__dropout": [0.1, 0.5], "ferclassifier__learning_rate": [1e-3, 3e-2]}
    search = HalvingGridSearchCV(
        make_fer_pipeline(FERClassifier(**TINY, random_state=0)),
        grid,
        resource="ferclassifier__epochs",
        min_resources=1,
        max_resources=4,
        factor=2,
        cv=2,
    ).fit(X, y)
    assert search.n_resources_ == [1, 2, 4]
    assert search.n_candidates_ == [4, 2, 1]
    epochs = np.asarray(search.cv_results_["param_ferclassifier__epochs"], dtype=int)
    assert epochs.tolist() == [1] * 4 + [2] * 2 + [4]
    assert search.best_params_["ferclassifier__epochs"] == 4
    # The refitted best model trained for the last round's epochs.
    assert len(search.best_estimator_[-1].history_["loss"]) == 4
