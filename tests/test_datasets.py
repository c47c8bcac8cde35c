import gzip
import re

import numpy as np
import pandas as pd
import pytest

from skfer import EMOTIONS, load_fer2013
from skfer.datasets import get_data_home

FACE = " ".join(["9"] * 2304)


def _write_csv(path, labels, usages=None, gz=False, pixels=None):
    pixels = [FACE] * len(labels) if pixels is None else pixels
    frame = pd.DataFrame({"emotion": labels, "pixels": pixels})
    if usages is not None:
        frame["Usage"] = usages
    opener = gzip.open if gz else open
    with opener(path, "wt") as f:
        frame.to_csv(f, index=False)
    return path


def test_real_fer2013_splits(fer_dir):
    train = load_fer2013(fer_dir, usage="Training")
    val = load_fer2013(fer_dir, usage="PublicTest")
    assert (len(train.data), len(val.data)) == (28709, 3589)
    assert list(train.target_names) == list(EMOTIONS)
    assert set(val.usage) == {"PublicTest"}
    assert np.bincount(val.target).tolist() == [467, 56, 496, 895, 653, 415, 607]
    assert len(train.data[0].split()) == 2304


@pytest.mark.parametrize("gz", [False, True])
def test_plain_and_gzipped_with_usage_selection(tmp_path, gz):
    name = "fer2013.csv.gz" if gz else "fer2013.csv"
    _write_csv(tmp_path / name, [0, 3, 6, 1], ["Training", "PublicTest", "PrivateTest", "Training"], gz)
    both = load_fer2013(tmp_path, usage=["Training", "PrivateTest"])
    assert both.target.tolist() == [0, 6, 1]
    assert both.usage.tolist() == ["Training", "PrivateTest", "Training"]
    X, y = load_fer2013(tmp_path / name, return_X_y=True)
    assert X.shape == (4,) and y.tolist() == [0, 3, 6, 1]


def test_as_frame(tmp_path):
    _write_csv(tmp_path / "fer2013.csv", [2, 5], ["Training", "Training"])
    data = load_fer2013(tmp_path, as_frame=True)
    assert list(data.data.columns) == ["pixels"]
    assert data.target.tolist() == [2, 5]
    assert {"pixels", "emotion", "Usage"} <= set(data.frame.columns)


def test_data_home_from_environment(tmp_path, monkeypatch):
    _write_csv(tmp_path / "fer2013.csv", [4])
    monkeypatch.setenv("SKFER_DATA", str(tmp_path))
    assert get_data_home() == tmp_path
    assert load_fer2013().target.tolist() == [4]


def test_missing_file_says_where_and_how(tmp_path, monkeypatch):
    monkeypatch.setenv("SKFER_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="nowhere.*SKFER_DATA.*Kaggle"):
        load_fer2013()


def test_missing_column_is_named(tmp_path):
    pd.DataFrame({"emotion": [0], "image": [FACE]}).to_csv(tmp_path / "fer2013.csv", index=False)
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['pixels'\]"):
        load_fer2013(tmp_path)


@pytest.mark.parametrize("bad", [7, -1, "happy"])
def test_bad_label_names_the_row(tmp_path, bad):
    _write_csv(tmp_path / "fer2013.csv", [0, 1, bad, 2])
    with pytest.raises(ValueError, match=f"row 2 \\(line 4\\) has the label '?{bad}'?"):
        load_fer2013(tmp_path)


def test_unknown_or_absent_usage(tmp_path):
    _write_csv(tmp_path / "fer2013.csv", [0, 1], ["Training", "Training"])
    with pytest.raises(ValueError, match="Unknown usage"):
        load_fer2013(tmp_path, usage="Test")
    with pytest.raises(ValueError, match=r"no rows with Usage \['PrivateTest'\]"):
        load_fer2013(tmp_path, usage="PrivateTest")


@pytest.mark.parametrize(
    "bad, problem",
    [
        ("1 2 3", "has 3 values"),
        ("", "is empty"),
        (FACE.replace(" ", ","), r"has '9,9,9,[9,]+\.\.\. \(length 4,607\), which is not"),
    ],
)
@pytest.mark.parametrize("gz", [False, True])
def test_bad_pixel_string_names_file_line_and_split(tmp_path, bad, problem, gz):
    name = "fer2013.csv.gz" if gz else "fer2013.csv"
    usages = ["Training", "PublicTest", "Training", "PublicTest", "PublicTest"]
    path = _write_csv(tmp_path / name, [0, 1, 2, 3, 4], usages, gz, pixels=[FACE] * 4 + [bad])
    where = rf"on line 6 of {re.escape(str(path))} \(Usage 'PublicTest', row 2 of the loaded faces\)"
    with pytest.raises(ValueError, match=f"Pixel string {where} {problem}") as error:
        load_fer2013(path, usage="PublicTest")
    assert len(str(error.value)) < 300 + len(str(path))
    with pytest.raises(ValueError, match=r"line 6 of .* \(Usage 'PublicTest', row 4 of the loaded"):
        load_fer2013(path)
    assert len(load_fer2013(path, usage="Training").data) == 2  # the bad row is not loaded


def test_bad_pixel_string_without_usage_column(tmp_path):
    path = _write_csv(tmp_path / "fer2013.csv", [0, 1], pixels=[FACE, "1 x 3"])
    with pytest.raises(ValueError, match=r"line 3 of .*fer2013.csv \(row 1 of the loaded faces\) has 'x'"):
        load_fer2013(path)
