"""benchmarks/weight_interpolation.py: the mixes are the straight line between two networks, scored on the default path."""

import runpy
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skfer import load_pretrained

BENCH = runpy.run_path(str(Path(__file__).resolve().parents[1] / "benchmarks" / "weight_interpolation.py"))


@settings(max_examples=30, deadline=None)
@given(alpha=st.floats(0, 1), sizes=st.lists(st.integers(1, 5), min_size=1, max_size=4), seed=st.integers(0, 99))
def test_a_mix_is_the_weighted_mean_of_the_float_weights_and_keeps_the_others(alpha, sizes, seed):
    rng = np.random.default_rng(seed)
    start = [rng.normal(size=n).astype(np.float32) for n in sizes] + [np.uint32([3, 4])]
    end = [rng.normal(size=n).astype(np.float32) for n in sizes] + [np.uint32([8, 9])]
    mixed = BENCH["mix"](start, end, alpha)
    for a, b, m in zip(start[:-1], end[:-1], mixed[:-1]):
        assert m.dtype == np.float32 and m.shape == a.shape
        np.testing.assert_allclose(m, (1 - alpha) * a + alpha * b, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(mixed[-1], start[-1])
    np.testing.assert_array_equal(BENCH["mix"](start, end, 0.0)[0], start[0])
    np.testing.assert_array_equal(BENCH["mix"](start, end, 1.0)[0], end[0])


@pytest.mark.parametrize(("end", "message"), [
    ([np.zeros(3, np.float32)], "hold 2 and 1 weights"),
    ([np.zeros(3, np.float32), np.zeros(4, np.float32)], r"Weight 1 is float32\(2,\) in one network and float32\(4,\)"),
])
def test_networks_of_another_architecture_are_refused_naming_the_weight(end, message):
    with pytest.raises(ValueError, match=message):
        BENCH["mix"]([np.zeros(3, np.float32), np.zeros(2, np.float32)], end, 0.5)


def _row(clean, blur, occlusion):
    return {"accuracy": {"none": clean, "blur": blur, "occlusion": occlusion}}


def test_the_rule_keeps_clean_accuracy_then_the_smallest_seen_drop_and_ignores_unseen_shifts():
    rows = {"a": _row(0.70, 0.50, 0.69), "b": _row(0.69, 0.66, 0.10), "c": _row(0.68, 0.67, 0.60),
            "d": _row(0.69, 0.60, 0.68)}
    assert BENCH["choose"](rows, 0.69, ["occlusion"]) == "b"  # c is below the clean floor
    assert BENCH["choose"](rows, 0.71, ["occlusion"]) is None


def test_the_engine_of_a_mix_predicts_what_the_mixed_network_predicts(tmp_path):
    rng = np.random.default_rng(0)
    faces = rng.integers(0, 256, (64, 2304)).astype(np.float32)
    pipeline = load_pretrained(predict_dtype="float32")
    weights = pipeline[-1].model_.get_weights()
    pipeline[-1].model_.set_weights(BENCH["mix"](weights, [w * 0.9 for w in weights], 0.5))
    engine = BENCH["int8_pipeline"](pipeline, faces[:32], tmp_path)
    assert engine.classes_.tolist() == pipeline.classes_.tolist()
    np.testing.assert_allclose(engine.predict_proba(faces), pipeline.predict_proba(faces), atol=0.1)
    assert not np.allclose(pipeline.predict_proba(faces), load_pretrained().predict_proba(faces), atol=1e-3)


def test_the_end_is_read_from_a_saved_pipeline_or_a_keras_file(tmp_path):
    import joblib

    pipeline = load_pretrained(predict_dtype="float32")
    weights = pipeline[-1].model_.get_weights()
    pipeline[-1].model_.set_weights([w * 0.5 for w in weights])
    joblib.dump(pipeline, tmp_path / "pipeline.joblib")
    pipeline[-1].model_.save(tmp_path / "network.keras")
    for path in (tmp_path / "pipeline.joblib", tmp_path / "network.keras"):
        read = BENCH["end_weights"](path)
        assert len(read) == len(weights)
        for got, original in zip(read, weights):
            np.testing.assert_array_equal(got, original * 0.5)
