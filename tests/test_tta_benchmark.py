"""benchmarks/tta_fer2013.py's ensemble rule: ship an ensemble only if it beats its best member by 1 point."""

import runpy
from pathlib import Path

TTA_BENCHMARK = runpy.run_path(str(Path(__file__).resolve().parents[1] / "benchmarks" / "tta_fer2013.py"))
ensemble_rule = TTA_BENCHMARK["ensemble_rule"]

ACCURACY = {"a": {"none": 0.68, "flip": 0.695}, "b": {"none": 0.67, "flip": 0.68}, "c": {"none": 0.60, "flip": 0.61}}


def test_an_ensemble_that_gains_less_than_a_point_over_its_best_member_with_its_best_tta_is_not_shipped():
    combinations = {("a", "b"): {"none": 0.69, "flip": 0.7004}, ("a", "c"): {"none": 0.66, "flip": 0.67}}
    rule = ensemble_rule(ACCURACY, combinations)
    assert rule["best_combination"] == ["a", "b"] and rule["its_tta"] == "flip"
    assert rule["best_member"] == "a" and rule["member_tta"] == "flip"
    assert rule["gain_points"] == 0.54 and rule["ship"] is False


def test_an_ensemble_that_gains_a_point_is_shipped():
    combinations = {("a", "b"): {"none": 0.69, "flip": 0.706}}
    rule = ensemble_rule(ACCURACY, combinations)
    assert rule["gain_points"] == 1.1 and rule["ship"] is True
