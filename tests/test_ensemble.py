import numpy as np
from sklearn.ensemble import VotingClassifier
from sklearn.frozen import FrozenEstimator

from skfer import FERClassifier, make_fer_pipeline

from .conftest import TINY


def test_soft_voting_over_fitted_pipelines_averages_their_probabilities(faces):
    X, y = faces
    members = [make_fer_pipeline(FERClassifier(**TINY, random_state=seed)).fit(X, y) for seed in (0, 1)]
    voting = VotingClassifier(
        [(f"m{i}", FrozenEstimator(m)) for i, m in enumerate(members)], voting="soft"
    ).fit(X, y)  # fitting a frozen member changes nothing
    expected = np.mean([m.predict_proba(X) for m in members], axis=0)
    np.testing.assert_allclose(voting.predict_proba(X), expected, rtol=1e-6)
    np.testing.assert_array_equal(voting.predict(X), members[0].classes_[expected.argmax(axis=1)])
    np.testing.assert_allclose(members[0].predict_proba(X), voting.estimators_[0].predict_proba(X))
