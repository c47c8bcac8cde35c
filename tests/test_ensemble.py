import numpy as np
from sklearn.ensemble import VotingClassifier
from sklearn.frozen import FrozenEstimator

from skfer import FERClassifier, make_fer_pipeline
from skfer.experiments._evaluation import accuracy_by_tta

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


def test_accuracy_by_tta_scores_each_augmentation_and_restores_the_members_own(faces):
    X, y = faces
    members = [
        make_fer_pipeline(FERClassifier(**TINY, random_state=seed, tta=tta)).fit(X, y)
        for seed, tta in ((0, "flip"), (1, None))
    ]
    voting = VotingClassifier(
        [(f"m{i}", FrozenEstimator(m)) for i, m in enumerate(members)], voting="soft"
    ).fit(X, y)
    scores = accuracy_by_tta(voting, X, y, ttas=(None, "flip"))
    assert [m[-1].tta for m in members] == ["flip", None]
    for tta in (None, "flip"):
        proba = np.mean([m.set_params(ferclassifier__tta=tta).predict_proba(X) for m in members], axis=0)
        assert scores["none" if tta is None else tta] == np.mean(voting.classes_[proba.argmax(axis=1)] == y)
    # The first member flips by its own setting: "none" must not have flipped it.
    flipped_once = members[0].set_params(ferclassifier__tta="flip").predict_proba(X)
    assert not np.allclose(flipped_once, members[0].set_params(ferclassifier__tta=None).predict_proba(X))
