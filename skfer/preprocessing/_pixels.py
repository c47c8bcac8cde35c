"""Parse FER2013 pixel strings into numeric arrays, fast and strictly."""

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
from scipy.sparse import issparse
from sklearn.base import BaseEstimator, TransformerMixin

from .._constants import IMAGE_SIZE, N_PIXELS, PIXEL_MAX

_ROW_END = ord(";")
#: Bytes allowed between pixel values: space, tab and the row end joined in.
_SEPARATOR = np.zeros(256, dtype=bool)
_SEPARATOR[[ord(" "), ord("\t"), _ROW_END]] = True
_NOT_A_PIXEL = f"which is not a pixel value (an integer 0-{int(PIXEL_MAX)})"
_CHUNK_ROWS = 2048
_MAX_DIGITS = 3
#: Characters of a bad value quoted in an error; a whole bad row would be 9 KB.
_EXCERPT = 40


def _quote(value):
    """``repr(value)``, cut to its first 40 characters (saying its length) when longer."""
    text = repr(value)
    if len(text) <= _EXCERPT:
        return text
    length = f" (length {len(value):,})" if hasattr(value, "__len__") else ""
    return f"{text[:_EXCERPT]}...{length}"


def _bad_token(text):
    """Name the first token of ``text`` (split at spaces and tabs) that is not an integer 0-255."""
    for token in text.replace("\t", " ").split(" "):
        is_pixel = token.isascii() and token.isdigit() and len(token) <= _MAX_DIGITS
        if token and (not is_pixel or int(token) > PIXEL_MAX):
            return f"has {_quote(token)}, {_NOT_A_PIXEL}"
    return None


_EXPECTED = (
    f"a face must be {N_PIXELS} integers 0-{int(PIXEL_MAX)} separated by spaces "
    f"({IMAGE_SIZE}x{IMAGE_SIZE}, row-major)."
)


class BadPixelString(Exception):
    """The first bad pixel string: ``row``, its index, and ``problem``, what is wrong.

    Raised inside the parser; :func:`pixel_string_error` turns it into the
    ValueError users see, worded by the caller that knows where the row is.
    """

    def __init__(self, row, problem):
        super().__init__(row, problem)
        self.row, self.problem = row, problem


def pixel_string_error(bad, where=None):
    """The ValueError for :class:`BadPixelString` ``bad``; ``where`` replaces "at row <row>"."""
    return ValueError(f"Pixel string {where or f'at row {bad.row}'} {bad.problem}; {_EXPECTED}")


def _not_a_string(value):
    if pd.api.types.is_scalar(value) and pd.isna(value):
        return f"is empty ({value!r})"
    return f"is {_quote(value)} ({type(value).__name__}), not a string"


def _token_values(digit_values, ends, widths):
    """Value of each token from the digits before its end (separators count as 0)."""
    values = digit_values[ends].astype(np.int16)
    for place in range(1, _MAX_DIGITS):
        # The byte just before a token is a separator; further back lies the previous token.
        digit = digit_values[ends - place]
        if place > 1:
            digit *= widths > place
        values += digit * np.int16(10**place)
    return values, (widths > _MAX_DIGITS) | (values > PIXEL_MAX)


def _tokens(buf, is_digit):
    """Last byte, width and row of every token, allowing any run of separators."""
    edges = np.diff(is_digit.view(np.int8), prepend=np.int8(0), append=np.int8(0))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1) - 1
    counts = np.diff(np.searchsorted(starts, np.flatnonzero(buf == _ROW_END)), prepend=0)
    return ends, ends - starts + 1, counts


def _parse_chunk(strings, offset):
    """Parse consecutive pixel strings; raise naming the first bad row (``offset`` + i)."""
    text = ";".join(strings) + ";"
    buf = np.frombuffer(text.encode("ascii", errors="replace"), dtype=np.uint8)
    digits = buf - np.uint8(ord("0"))
    is_digit = digits < 10
    seps = np.flatnonzero(~is_digit)
    sep_bytes = buf[seps]
    is_row_end = sep_bytes == _ROW_END
    widths = np.diff(seps, prepend=-1) - 1
    stray = ~_SEPARATOR[sep_bytes]
    if widths.min() >= 1:
        # Fast path, the usual layout: every separator ends exactly one token.
        ends, counts = seps - 1, np.diff(np.flatnonzero(is_row_end), prepend=-1)
    else:
        ends, widths, counts = _tokens(buf, is_digit)

    bad_rows = {}
    if stray.any():
        row = int(np.count_nonzero(is_row_end[: np.argmax(stray)]))
        bad_rows[row] = _bad_token(strings[row])
    if (counts != N_PIXELS).any():
        row = int(np.argmax(counts != N_PIXELS))
        bad_rows.setdefault(row, "is empty" if counts[row] == 0 else f"has {counts[row]} values")
    if not bad_rows:
        values, too_large = _token_values(digits * is_digit, ends, widths)
        if not too_large.any():
            return values.reshape(-1, N_PIXELS)
        row = int(np.argmax(too_large)) // N_PIXELS
        bad_rows[row] = _bad_token(strings[row])
    row = min(bad_rows)
    raise BadPixelString(offset + row, bad_rows[row])


def _parsed_chunks(strings):
    """Yield ``(start, values)`` for consecutive chunks of ``strings``, parsed in parallel."""
    not_str = np.fromiter((not isinstance(s, str) for s in strings), dtype=bool, count=len(strings))
    if not_str.any():
        row = int(np.argmax(not_str))
        raise BadPixelString(row, _not_a_string(strings[row]))
    if len(strings) <= _CHUNK_ROWS:
        yield 0, _parse_chunk(strings, 0)
        return
    starts = range(0, len(strings), _CHUNK_ROWS)
    # NumPy releases the GIL in its array passes, so chunks parse in parallel;
    # map yields in order, so the first bad row is still the one reported.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        chunks = pool.map(lambda i: _parse_chunk(strings[i : i + _CHUNK_ROWS], i), starts)
        yield from zip(starts, chunks)


def _parse_strings(strings):
    out = np.empty((len(strings), N_PIXELS), dtype=np.float32)
    for start, values in _parsed_chunks(strings):
        out[start : start + len(values)] = values
    return out


def check_pixel_strings(strings):
    """Raise :class:`BadPixelString` for the first bad string of a 1-D object array.

    It parses as :func:`to_pixel_array` does but keeps no values, so a loader
    can check the strings it reads and name the file and line of a bad one.
    """
    for _ in _parsed_chunks(strings):
        pass


#: How far outside 0-255 a value may lie and still count as a pixel (clipped): less than
#: half a gray level, as float arithmetic (a resize in float32) leaves at the ends.
ROUNDING = 0.5


def _check_numeric(X):
    if np.iscomplexobj(X):
        raise ValueError(f"Complex data not supported: faces are real pixel values 0-255; got {X.dtype}.")
    try:
        X = np.asarray(X, dtype=np.float32)
    except TypeError as exc:
        raise TypeError(f"Faces must be pixel strings or real numbers: {exc}") from None
    except ValueError as exc:
        raise ValueError(f"Faces must be pixel strings or real numbers: {exc}") from None
    bad = ~np.isfinite(X)
    if bad.any():
        row = int(np.argmax(bad)) // max(X[:1].size, 1)
        raise ValueError(
            f"Face at row {row} contains NaN or inf; pixel values must be finite numbers 0-255."
        )
    shapes = ((N_PIXELS,), (IMAGE_SIZE, IMAGE_SIZE), (IMAGE_SIZE, IMAGE_SIZE, 1))
    if X.ndim < 2 or X.shape[1:] not in shapes:
        accepted = (
            f"numeric faces must have shape (n, {N_PIXELS}), (n, {IMAGE_SIZE}, {IMAGE_SIZE}) "
            f"or (n, {IMAGE_SIZE}, {IMAGE_SIZE}, 1); got {X.shape}"
        )
        if X.ndim < 2:
            raise ValueError(f"Reshape your data: {accepted}; a single face is X.reshape(1, -1).")
        if X.ndim == 2 and X.shape[1] == 0:
            raise ValueError(
                f"Found array with 0 feature(s) (shape={X.shape}) while a minimum of {N_PIXELS} "
                f"is required: {accepted}."
            )
        raise ValueError(accepted[0].upper() + accepted[1:] + ".")
    X = X.reshape(len(X), N_PIXELS)
    bad = (X < -ROUNDING) | (X > PIXEL_MAX + ROUNDING)
    if bad.any():
        row, col = divmod(int(np.argmax(bad)), N_PIXELS)
        which = "Negative values in data: face" if X[row, col] < 0 else "Face"
        raise ValueError(
            f"{which} at row {row} has the value {X[row, col]} at pixel {col}; pixel values "
            f"must be within 0-{int(PIXEL_MAX)}."
        )
    if X.size and (X.min() < 0 or X.max() > PIXEL_MAX):  # a rounding error (a resize in float32, say)
        X = np.clip(X, 0, PIXEL_MAX)
    return X


def _as_array(X):
    """Return ``X`` as an ndarray and whether it holds pixel strings (one per row)."""
    if issparse(X):
        raise TypeError("Sparse input is not supported: faces must be pixel strings or dense arrays.")
    if hasattr(X, "to_numpy"):
        X = X.to_numpy()
    X = np.asarray(X, dtype=object) if isinstance(X, list) else np.asarray(X)
    is_text = X.dtype.kind in "OUS" and (X.ndim == 1 or X.shape[1:] == (1,))
    return X, is_text


def to_pixel_array(X):
    """Convert faces given as pixel strings or numeric arrays to an (n, 2304) array.

    Parameters
    ----------
    X : array-like of str of shape (n_samples,) or (n_samples, 1), or array-like of numbers
        of shape (n_samples, 2304), (n_samples, 48, 48) or (n_samples, 48, 48, 1)
        Faces as FER2013 pixel strings (2304 space-separated integers 0-255)
        or as numeric arrays.

    Returns
    -------
    ndarray of shape (n_samples, 2304), dtype float32
        Pixel values 0-255, one face per row.

    Raises
    ------
    ValueError
        Naming the first bad row and what was wrong with it: a wrong number
        of values, a token that is not an integer, a value outside 0-255, NaN,
        an empty or missing string, or a wrong array shape. A bad token or
        value is quoted up to its first 40 characters.

    Examples
    --------
    >>> from skfer.preprocessing import to_pixel_array
    >>> to_pixel_array([" ".join(["7"] * 2304)]).shape
    (1, 2304)
    """
    X, is_text = _as_array(X)
    if is_text:
        try:
            return _parse_strings(X.reshape(-1).astype(object))
        except BadPixelString as bad:
            raise pixel_string_error(bad) from None
    return _check_numeric(X)


class PixelStringTransformer(TransformerMixin, BaseEstimator):
    """Turn FER2013 pixel strings into a numeric array of shape (n_samples, 2304).

    FER2013 stores each 48x48 grayscale face as one string of 2304
    space-separated integers. This transformer parses all of them in a few
    vectorised passes (all of FER2013 in about a second) and checks every
    row. Numeric faces of shape (n, 2304), (n, 48, 48) or (n, 48, 48, 1) pass
    through as (n, 2304), so one pipeline serves pixel strings and image
    arrays alike. The transformer is stateless: ``fit`` learns nothing.

    Attributes
    ----------
    n_features_in_ : int
        Number of columns of ``X`` seen in ``fit`` (1 for pixel strings).

    See Also
    --------
    PixelNormalizer : Scale or standardize the parsed pixel values.

    Examples
    --------
    >>> import numpy as np
    >>> from skfer import PixelStringTransformer
    >>> faces = [" ".join(["0"] * 2304), " ".join(["255"] * 2304)]
    >>> X = PixelStringTransformer().fit_transform(faces)
    >>> X.shape, X.dtype, X.max()
    ((2, 2304), dtype('float32'), np.float32(255.0))
    >>> PixelStringTransformer().fit_transform(np.zeros((3, 48, 48))).shape
    (3, 2304)
    """

    def fit(self, X, y=None):
        """Check that ``X`` holds valid faces; nothing is learned.

        Parameters
        ----------
        X : array-like
            Pixel strings of shape (n_samples,) or (n_samples, 1), or numeric
            faces of shape (n_samples, 2304), (n_samples, 48, 48) or
            (n_samples, 48, 48, 1).
        y : None
            Ignored.

        Returns
        -------
        self : PixelStringTransformer
            The transformer.
        """
        self.fit_transform(X)
        return self

    def fit_transform(self, X, y=None):
        """Check ``X`` and parse it into (n_samples, 2304), in one pass.

        Parameters
        ----------
        X : array-like
            Pixel strings or numeric faces, as in :meth:`fit`.
        y : None
            Ignored.

        Returns
        -------
        ndarray of shape (n_samples, 2304), dtype float32
            Pixel values 0-255.
        """
        pixels = to_pixel_array(X)
        if not len(pixels):
            raise ValueError(
                f"Found array with 0 sample(s) (shape={np.shape(X)}) while a minimum of 1 is "
                "required by PixelStringTransformer.fit."
            )
        self.n_features_in_ = 1 if _as_array(X)[1] else N_PIXELS
        return pixels

    def transform(self, X):
        """Parse pixel strings (or reshape numeric faces) into (n_samples, 2304).

        Parameters
        ----------
        X : array-like
            Pixel strings or numeric faces, as in :meth:`fit`.

        Returns
        -------
        ndarray of shape (n_samples, 2304), dtype float32
            Pixel values 0-255.
        """
        return to_pixel_array(X)

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns: ``pixel0`` ... ``pixel2303``.

        Parameters
        ----------
        input_features : None
            Ignored.

        Returns
        -------
        ndarray of str of shape (2304,)
            The pixel names, row-major.
        """
        return np.array([f"pixel{i}" for i in range(N_PIXELS)], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.string = True
        tags.input_tags.positive_only = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
