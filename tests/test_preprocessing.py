import numpy as np
import pandas as pd
import pytest

from skfer import PixelNormalizer, PixelStringTransformer
from skfer.preprocessing import to_pixel_array

ROW = " ".join(str(v % 256) for v in range(2304))


def test_parses_like_the_seed_notebook(real_faces):
    strings = real_faces[0][:50]
    seed_way = np.stack([np.array(s.split(" ")).astype("float32") for s in strings])
    np.testing.assert_array_equal(PixelStringTransformer().fit_transform(strings), seed_way)


@pytest.mark.parametrize(
    "container", [list, np.array, pd.Series, lambda s: pd.DataFrame({"pixels": s})]
)
def test_accepts_string_containers(container):
    X = PixelStringTransformer().fit_transform(container([ROW, ROW]))
    assert X.shape == (2, 2304) and X.dtype == np.float32
    assert X[0, 300] == 300 % 256


@pytest.mark.parametrize(
    "bad, message",
    [
        (" ".join(["1"] * 2303), "row 2 has 2303 values"),
        (" ".join(["1"] * 2305), "row 2 has 2305 values"),
        ("", "row 2 is empty"),
        (ROW.replace("1", "x", 1), "row 2 has 'x'"),
        (ROW.replace("255", "256", 1), "row 2 has '256'"),
        (ROW.replace("7", "-7", 1), "row 2 has '-7'"),
        (ROW.replace("7", "nan", 1), "row 2 has 'nan'"),
        (None, "row 2 is None"),
        (np.nan, "row 2 is nan"),
    ],
)
def test_bad_pixel_strings_name_the_first_bad_row(bad, message):
    with pytest.raises(ValueError, match=message):
        PixelStringTransformer().fit_transform([ROW, ROW, bad, bad])


@pytest.mark.parametrize("shape", [(3, 2304), (3, 48, 48), (3, 48, 48, 1)])
def test_numeric_faces_pass_through(shape):
    X = np.arange(np.prod(shape)).reshape(shape) % 256
    out = PixelStringTransformer().fit_transform(X)
    np.testing.assert_array_equal(out, X.reshape(3, 2304))


@pytest.mark.parametrize(
    "X, message",
    [
        (np.zeros((2, 47, 48)), r"got \(2, 47, 48\)"),
        (np.full((2, 2304), 300.0), "value 300.0 at pixel 0"),
        (np.where(np.arange(4608).reshape(2, 2304) == 2304 + 5, np.nan, 1.0), "row 1 contains NaN"),
    ],
)
def test_bad_numeric_faces(X, message):
    with pytest.raises(ValueError, match=message):
        to_pixel_array(X)


def test_feature_names():
    names = PixelStringTransformer().fit([ROW]).get_feature_names_out()
    assert names[0] == "pixel0" and names[-1] == "pixel2303"


def test_normalizer_scale_and_standardize():
    X = np.array([[0.0, 51.0, 255.0], [255.0, 0.0, 0.0]], dtype=np.float32)
    scaled = PixelNormalizer().fit_transform(X)
    assert scaled.dtype == np.float32
    np.testing.assert_allclose(scaled, X / 255)
    std = PixelNormalizer(method="standardize").fit(X)
    Z = std.transform(X)
    assert abs(Z.mean()) < 1e-6 and abs(Z.std() - 1) < 1e-6
    np.testing.assert_allclose(std.inverse_transform(Z), X, atol=1e-4)


def test_normalizer_rejects_unknown_method():
    with pytest.raises(ValueError, match="method"):
        PixelNormalizer(method="minmax").fit(np.zeros((2, 3)))
