"""SaliencyDisplay and the saliency maps behind it: what they explain, how they are drawn, and whether they pass
the sanity checks of Adebayo et al. (NeurIPS 2018) on the shipped model and real FER2013 faces."""

import runpy
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

from skfer import EMOTIONS, FERClassifier, SaliencyDisplay, load_pretrained, load_pretrained_onnx, make_fer_pipeline
from skfer.inference._saliency import saliency_maps
from skfer.preprocessing import to_pixel_array

from .conftest import TINY

matplotlib.use("Agg")
SANITY = runpy.run_path(str(Path(__file__).resolve().parents[1] / "benchmarks" / "saliency_sanity.py"))
HAPPY = EMOTIONS.index("Happy")


@pytest.fixture(autouse=True)
def _close_figures():
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


@pytest.fixture(scope="module")
def chin():
    """Faces of class 0 (dark) and 3 (a bright chin, rows 40-47), and a logistic regression fitted on them.

    Strongly regularized, so that its probabilities (0.83 and 0.92) are far from saturated.
    """
    X = np.full((10, 2304), 60, dtype=np.float32)
    X[5:, 1920:] = 250
    return X, LogisticRegression(C=1e-6).fit(X, np.repeat([0, 3], 5))


@pytest.fixture(scope="module")
def tiny_pipeline():
    """A pipeline with a tiny untrained DCNN that crops its faces to 44x44, as the shipped one does."""
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (6, 2304)).astype(np.float32)
    pipe = make_fer_pipeline(FERClassifier(architecture__filters=(4, 8), architecture__dense_units=8, dropout=0.1,
                                           random_state=0))
    pipe[:-1].fit(X)
    pipe[-1].initialize(pipe[:-1].transform(X), np.arange(6) % 3)
    return pipe, X


# -- what the maps explain -------------------------------------------------------------


def test_occlusion_finds_the_pixels_a_classifier_reads(chin):
    X, clf = chin
    display = SaliencyDisplay.from_estimator(clf, X[[0, 9]], method="occlusion")

    assert display.maps.shape == (2, 48, 48) and display.maps.dtype == np.float32
    assert display.target.tolist() == [0, 3] and display.target_names == ["Angry", "Happy"]
    np.testing.assert_allclose(display.probabilities, clf.predict_proba(X[[0, 9]]).max(axis=1))
    chin_map = display.maps[1]
    assert chin_map[40:].mean() > 5 * np.abs(chin_map[:32]).max()  # no square covering those reaches row 40
    assert np.abs(display.maps[0]).max() < 1e-5  # a flat face: covering it with its mean changes nothing
    np.testing.assert_array_equal(display.faces, X[[0, 9]].reshape(2, 48, 48))


def test_target_picks_the_class_explained(chin):
    X, clf = chin
    as_label = saliency_maps(clf, X[[9]], target=0, method="occlusion")
    as_name = saliency_maps(clf, X[[9]], target="Angry", method="occlusion")
    per_face = saliency_maps(clf, X[[0, 9]], target=["Happy", "Angry"], method="occlusion")

    assert as_label.columns.tolist() == as_name.columns.tolist() == [0]
    np.testing.assert_array_equal(as_label.maps, as_name.maps)
    assert per_face.columns.tolist() == [1, 0]
    # Covering the bright chin lowers "Happy" exactly as much as it raises "Angry".
    np.testing.assert_allclose(as_label.maps[0], -saliency_maps(clf, X[[9]], method="occlusion").maps[0], atol=1e-6)


@pytest.mark.parametrize("target, message", [
    ("Sad", r"target holds \['Sad'\], which are not in the classifier's classes_ \[0, 3\]"),
    ([0, 3, 3], r"one label per face \(2 faces\); got an array of shape \(3,\)"),
])
def test_a_target_that_is_not_a_class_is_refused(chin, target, message):
    X, clf = chin
    with pytest.raises(ValueError, match=message):
        saliency_maps(clf, X[:2], target=target, method="occlusion")


@pytest.mark.parametrize("settings, message", [
    ({"method": "occlusion", "layer": "act3_2"}, "layer is a setting of method='gradcam'"),
    ({"method": "gradcam", "patch_size": 8}, "patch_size is a setting of method='occlusion'"),
    ({"method": "lime"}, "'method' parameter of saliency maps must be a str among"),
    ({"method": "occlusion", "stride": 0}, "'stride' parameter"),
])
def test_settings_of_another_method_or_out_of_range_are_refused(chin, settings, message):
    X, clf = chin
    with pytest.raises(ValueError, match=message):
        SaliencyDisplay.from_estimator(clf, X[:1], **settings)


@pytest.mark.parametrize("X, message", [
    (np.zeros((2, 47, 47)), r"got an array of shape \(2, 47, 47\)"),
    (np.zeros((0, 2304)), "X holds no face"),
    (np.full((1, 2304), np.nan), "Face at row 0 of X holds NaN or inf"),
    (["1 2 3"], "Pixel string at row 0"),
])
def test_faces_that_are_not_48x48_faces_are_refused(chin, X, message):
    with pytest.raises(ValueError, match=message):
        saliency_maps(chin[1], X, method="occlusion")


def test_gradcam_explains_a_keras_pipeline_on_the_face_it_sees(tiny_pipeline):
    pipe, X = tiny_pipeline
    strings = [" ".join(str(int(v)) for v in face) for face in X[:3]]
    display = SaliencyDisplay.from_estimator(pipe, strings)

    assert display.method == "gradcam" and display.maps.shape == (3, 48, 48)
    assert (display.maps >= 0).all()
    border = np.ones((48, 48), dtype=bool)
    border[2:46, 2:46] = False  # the network crops the central 44x44: it never sees the border
    assert (display.maps[:, border] == 0).all()
    np.testing.assert_array_equal(display.maps, saliency_maps(pipe, X[:3]).maps)  # strings as arrays
    earlier = saliency_maps(pipe, X[:3], layer="act1_2").maps
    assert not np.allclose(earlier, display.maps)


def test_gradcam_refuses_what_it_cannot_explain(chin, tiny_pipeline, monkeypatch):
    X, clf = chin
    with pytest.raises(TypeError, match="LogisticRegression has no Keras network. Use method='occlusion'"):
        saliency_maps(clf, X[:1])
    pipe, faces = tiny_pipeline
    with pytest.raises(ValueError, match=r"layer='dense' is not a layer .* with feature maps .*'act2_2'"):
        saliency_maps(pipe, faces[:1], layer="dense")
    import keras

    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    with pytest.raises(ValueError, match="Keras runs on the 'jax' backend here: skfer computes Grad-CAM on the "
                                         "TensorFlow backend only. Use method='occlusion'"):
        saliency_maps(pipe, faces[:1])
    assert saliency_maps(pipe, faces[:1], method="occlusion").maps.shape == (1, 48, 48)  # every backend


def test_occlusion_explains_the_onnx_predictor():
    faces = np.random.default_rng(0).integers(0, 256, (2, 48, 48)).astype(np.uint8)
    display = SaliencyDisplay.from_estimator(load_pretrained_onnx(), faces, method="occlusion", stride=12)

    assert display.maps.shape == (2, 48, 48) and np.isfinite(display.maps).all()
    assert set(display.target_names) <= set(EMOTIONS)


@settings(max_examples=6, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(n_faces=st.integers(1, 5), dtype=st.sampled_from([np.uint8, np.int64, np.float32, np.float64]),
       shape=st.sampled_from([(2304,), (48, 48), (48, 48, 1)]), seed=st.integers(0, 2**16))
def test_one_map_per_face_in_any_dtype_and_shape(tiny_pipeline, n_faces, dtype, shape, seed):
    pipe, _ = tiny_pipeline
    flat = np.random.default_rng(seed).integers(0, 256, (n_faces, 2304))
    display = SaliencyDisplay.from_estimator(pipe, flat.astype(dtype).reshape(n_faces, *shape),
                                             method="occlusion", patch_size=16, stride=16)

    assert display.maps.shape == (n_faces, 48, 48) and np.isfinite(display.maps).all()
    assert len(display.axes_) == len(display.images_) == len(display.target_names) == n_faces
    # Each 16-pixel square covers its pixels alone: the map there is the fall of the class's probability.
    proba = pipe.predict_proba(flat.astype(np.float32))
    covered = flat.reshape(n_faces, 48, 48).astype(np.float32)
    covered[:, :16, :16] = covered.mean(axis=(1, 2), dtype=np.float64)[:, None, None]
    column = proba.argmax(axis=1)
    fall = proba[np.arange(n_faces), column] - pipe.predict_proba(covered.reshape(n_faces, -1))[np.arange(n_faces), column]
    np.testing.assert_allclose(display.maps[:, 0, 0], fall, atol=1e-5)


# -- the plot ---------------------------------------------------------------------------


def test_plot_draws_each_map_over_its_face_with_emotion_and_probability(chin):
    import matplotlib.pyplot as plt

    X, clf = chin
    display = SaliencyDisplay.from_estimator(clf, X[[0, 9, 8]], method="occlusion", n_cols=2)

    assert len(display.figure_.axes) == 4 and not display.figure_.axes[3].get_images()  # the grid's spare panel
    assert [ax.get_title() for ax in display.axes_] == ["Angry 83%", "Happy 92%", "Happy 92%"]
    shown = display.images_[1].get_array()
    assert shown.max() == pytest.approx(1.0) and shown.min() >= 0  # each map on its own scale
    assert len(display.axes_[1].get_images()) == 2  # the face, then the map

    _, axes = plt.subplots(1, 3)
    again = display.plot(ax=axes, alpha=0.3)
    assert list(again.axes_) == list(axes) and again.figure_ is axes[0].figure


def test_plot_refuses_a_wrong_layout(chin):
    import matplotlib.pyplot as plt

    X, clf = chin
    display = SaliencyDisplay.from_estimator(clf, X[[0, 9, 8]], method="occlusion")
    with pytest.raises(ValueError, match=r"one Axes per face \(3\); got 2"):
        display.plot(ax=plt.subplots(1, 2)[1])
    with pytest.raises(ValueError, match="with ax, the Axes given set it"):
        display.plot(ax=plt.subplots(1, 3)[1], n_cols=3)
    with pytest.raises(ValueError, match="n_cols must be a positive integer"):
        display.plot(n_cols=0)
    with pytest.raises(ValueError, match=r"alpha must be in \[0, 1\]"):
        display.plot(alpha=1.5)


# -- sanity checks on the shipped model and real faces (benchmarks/saliency_sanity.py) -------------------


@pytest.fixture(scope="module")
def shipped(real_faces):
    """The shipped model, a copy with randomized weights, and 200 PublicTest faces (0-255) with labels."""
    _, _, X_val, y_val = real_faces
    pipe = load_pretrained()
    return pipe, SANITY["randomized"](pipe), to_pixel_array(X_val), np.asarray(y_val)


N_CHECKED = 32  # faces of the randomization and mirror checks


@pytest.fixture(scope="module")
def shipped_maps(shipped):
    """Each method's maps of the first 32 faces: of the shipped model, of its randomized copy, of the mirrored faces."""
    pipe, random_pipe, faces, _ = shipped
    faces = faces[:N_CHECKED]
    mirrored = faces.reshape(-1, 48, 48)[:, :, ::-1].reshape(len(faces), -1)
    maps = {}
    for method in ("gradcam", "occlusion"):
        trained = saliency_maps(pipe, faces, method=method)
        target = pipe.classes_[trained.columns]
        maps[method] = {
            "trained": trained.maps,
            "random": saliency_maps(random_pipe, faces, target=target, method=method).maps,
            "of_mirrored": saliency_maps(pipe, mirrored, target=target, method=method).maps,
        }
    return maps


@pytest.mark.slow
@pytest.mark.parametrize("method", ["gradcam", "occlusion"])
def test_a_network_with_randomized_weights_gives_other_maps(shipped_maps, method):
    maps = shipped_maps[method]
    rho = SANITY["rank_correlations"](maps["trained"], maps["random"])
    assert np.isfinite(rho).mean() >= 0.9  # a Grad-CAM map of a random network can be all 0
    assert np.nanmean(rho) < 0.5


@pytest.mark.slow
@pytest.mark.parametrize("method", ["gradcam", "occlusion"])
def test_maps_follow_a_mirrored_face(shipped_maps, method):
    maps = shipped_maps[method]
    mirrored_back = SANITY["rank_correlations"](maps["trained"], maps["of_mirrored"][:, :, ::-1])
    as_computed = SANITY["rank_correlations"](maps["trained"], maps["of_mirrored"])
    assert np.nanmean(mirrored_back) > np.nanmean(as_computed) + 0.03


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=(
    "The mirror check at 0.8: neither method's maps of the shipped model reach it (figures in "
    "benchmarks/results/saliency_sanity.md); the model itself predicts another class for some mirrored faces. "
    "A model whose maps pass will XPASS and fail this test: then drop the mark."))
@pytest.mark.parametrize("method", ["gradcam", "occlusion"])
def test_the_map_of_a_mirrored_face_is_the_mirrored_map(shipped_maps, method):
    maps = shipped_maps[method]
    assert np.nanmean(SANITY["rank_correlations"](maps["trained"], maps["of_mirrored"][:, :, ::-1])) >= 0.8


@pytest.mark.slow
@pytest.mark.parametrize("method", ["gradcam", "occlusion"])
def test_a_smile_weighs_more_than_the_eyes(shipped, method):
    pipe, _, faces, labels = shipped
    happy = faces[(labels == HAPPY) & (pipe.predict(faces) == HAPPY)]
    maps = saliency_maps(pipe, happy, target=HAPPY, method=method).maps
    assert len(happy) >= 20
    assert SANITY["region_mass"](maps, "mouth").mean() > SANITY["region_mass"](maps, "eyes").mean()
