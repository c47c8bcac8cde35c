import warnings

import numpy as np
import pandas as pd
import pytest

from skfer import PixelNormalizer, PixelStringTransformer
from skfer.preprocessing import to_pixel_array

pytestmark = pytest.mark.floor

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
        (ROW + "\r", r"row 2 has '255\\r'"),
        ("  \t ", "row 2 is empty"),
        (None, r"row 2 is empty \(None\)"),
        (np.nan, r"row 2 is empty \(nan\)"),
        (pd.NA, r"row 2 is empty \(<NA>\)"),
        (7, r"row 2 is 7 \(int\), not a string"),
    ],
)
def test_bad_pixel_strings_name_the_first_bad_row(bad, message):
    with pytest.raises(ValueError, match=message):
        PixelStringTransformer().fit_transform([ROW, ROW, bad, bad])


@pytest.mark.parametrize(
    "bad, excerpt",
    [
        (ROW.replace(" ", ","), r"has '0,1,2,[0-9,]+\.\.\. \(length 8,225\), which is not"),
        (ROW.replace(" ", ",").encode(), r"is b'0,1,2,[0-9,]+\.\.\. \(length 8,225\) \(bytes\)"),
    ],
)
def test_long_bad_rows_are_quoted_short(bad, excerpt):
    with pytest.raises(ValueError, match=f"row 1 {excerpt}") as error:
        to_pixel_array(np.array([ROW, bad], dtype=object))
    assert len(str(error.value)) < 250


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


def test_normalizer_checks_every_input_it_does_not_validate_again(faces):
    # Faces a PixelStringTransformer returned skip validate_data; anything else is still checked.
    X = faces[0][:3].astype(np.float32)
    normalizer = PixelNormalizer().fit(X)
    expected = X / 255
    np.testing.assert_array_equal(normalizer.transform(X), expected)
    np.testing.assert_array_equal(normalizer.transform(np.asfortranarray(X)), expected)
    bad = X.copy()
    bad[1, 7] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        normalizer.transform(bad)
    with pytest.raises(ValueError, match="2304 features"):
        normalizer.transform(X[:, :100])
    named = PixelNormalizer().fit(pd.DataFrame(X, columns=[f"pixel{i}" for i in range(X.shape[1])]))
    with pytest.warns(UserWarning, match="feature names"):
        named.transform(X)


def test_normalizer_rejects_unknown_method():
    with pytest.raises(ValueError, match="method"):
        PixelNormalizer(method="minmax").fit(np.zeros((2, 3)))


def _warns_nothing(action, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return action(*args)


@pytest.mark.parametrize("method", ["scale", "standardize"])
def test_normalizer_warns_on_faces_already_scaled(faces, method):
    X = faces[0]
    norm = PixelNormalizer(method=method, check_range="warn").fit(X)
    message = r"expects pixel values 0-255, but 60 of 60 faces in X have no value above 1 \(row 0"
    with pytest.warns(UserWarning, match=message + r".*look already scaled to \[0, 1\]"):
        norm.transform(X / 255)
    mixed = np.vstack([X, X[:1] / 255])
    with pytest.raises(ValueError, match=r"but 1 of 61 faces in X have no value above 1 \(row 60"):
        norm.set_params(check_range="raise").transform(mixed)
    _warns_nothing(norm.set_params(check_range="ignore").transform, X / 255)


def test_scale_normalizer_checks_the_faces_it_is_fitted_on(faces):
    with pytest.raises(ValueError, match="look already scaled"):
        PixelNormalizer().fit(faces[0] / 255)  # refused by default: it would answer wrongly
    with pytest.warns(UserWarning, match="look already scaled"):
        PixelNormalizer(check_range="warn").fit_transform(faces[0] / 255)


def test_normalizer_fitted_on_scaled_faces_refuses_raw_pixels(faces):
    X = faces[0]
    norm = PixelNormalizer(method="standardize").fit(X / 255)
    assert norm.input_range_ == "0-1"
    _warns_nothing(norm.transform, X[:5] / 255)
    message = r"fitted on values within \[0, 1\].*60 of 60 faces in X have values above 1 \(row 0"
    with pytest.raises(ValueError, match=message + r".*look like raw pixel values 0-255"):
        norm.transform(X)
    with pytest.warns(UserWarning, match=message):
        norm.set_params(check_range="warn").transform(X)


def test_normalizer_range_check_spares_dark_and_black_faces():
    black = np.zeros((1, 2304))
    dark = np.zeros((1, 2304))
    dark[0, :100] = 2.0
    for method in ["scale", "standardize"]:
        norm = PixelNormalizer(method=method, check_range="raise")
        _warns_nothing(norm.fit, np.vstack([black, dark]))
        _warns_nothing(norm.transform, black)
        _warns_nothing(norm.transform, dark)
    # Nothing to compare with after fitting on black faces only: no check.
    assert PixelNormalizer(method="standardize").fit(black).input_range_ is None


def test_normalizer_range_check_spares_real_faces(real_faces):
    X = PixelStringTransformer().fit_transform(np.concatenate([real_faces[0], real_faces[2]]))
    norm = _warns_nothing(PixelNormalizer(check_range="raise").fit, X)
    _warns_nothing(norm.transform, np.vstack([X, np.zeros((1, 2304))]))
    for row in X[np.argsort(X.max(axis=1))[:20]]:  # the darkest faces, one at a time
        _warns_nothing(norm.transform, row[None])


@pytest.mark.slow
def test_no_fer2013_face_looks_scaled(fer_dir):
    from skfer import load_fer2013

    X = PixelStringTransformer().fit_transform(load_fer2013(fer_dir).data)
    _warns_nothing(PixelNormalizer(check_range="raise").fit_transform, X)
    peaks = X.max(axis=1)
    assert len(X) == 32298 and peaks[peaks > 0].min() == 47  # as docs/user_guide/pipeline.rst says


def test_normalizer_rejects_unknown_check_range():
    with pytest.raises(ValueError, match="check_range"):
        PixelNormalizer(check_range="loud").fit(np.zeros((2, 3)))
