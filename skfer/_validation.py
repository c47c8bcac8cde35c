"""skfer's own parameter validation: constraints per parameter, an error that names the parameter.

A constraint is one of: a type (``str``, ``dict``, a class), None, the
strings ``"boolean"``, ``"array-like"``, ``"random_state"``, ``callable``,
or an :class:`Interval`, :class:`Options` or :class:`HasMethods`. A value
passes if any of its parameter's constraints accepts it. Classes check
their parameters with :func:`check_params` (``_parameter_constraints``,
scikit-learn's convention); functions with :func:`validate_params`.
"""

import functools
import inspect
import numbers

import numpy as np


class Interval:
    """Numbers of ``kind`` between ``left`` and ``right`` (None: unbounded); ``closed`` says which ends belong.

    Parameters
    ----------
    kind : numbers.Integral or numbers.Real
        Integral accepts integers; Real accepts integers and floats.
    left, right : float or None
        The bounds.
    closed : {"left", "right", "both", "neither"}
        Which bounds belong to the interval.

    Examples
    --------
    >>> from numbers import Real
    >>> from skfer._validation import Interval
    >>> rate = Interval(Real, 0, 1, closed="left")
    >>> rate.accepts(0.0), rate.accepts(1.0), str(rate)
    (True, False, 'a float in the range [0, 1)')
    """

    def __init__(self, kind, left, right, *, closed):
        self.kind, self.left, self.right, self.closed = kind, left, right, closed

    def accepts(self, value):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return False
        if self.kind is numbers.Integral and not isinstance(value, numbers.Integral):
            return False
        if self.left is not None and (value < self.left or value == self.left and self.closed in ("right", "neither")):
            return False
        return not (self.right is not None and (
            value > self.right or value == self.right and self.closed in ("left", "neither")))

    def __str__(self):
        what = "an int" if self.kind is numbers.Integral else "a float"
        opening = "[" if self.closed in ("left", "both") and self.left is not None else "("
        closing = "]" if self.closed in ("right", "both") and self.right is not None else ")"
        left = "-inf" if self.left is None else f"{self.left:g}"
        right = "inf" if self.right is None else f"{self.right:g}"
        return f"{what} in the range {opening}{left}, {right}{closing}"


class Options:
    """One of the given values (strings, say).

    Examples
    --------
    >>> from skfer._validation import Options
    >>> Options({"flip", "ten_crop"}).accepts("flip"), str(Options({"b", "a"}))
    (True, "a str among {'a', 'b'}")
    """

    def __init__(self, values):
        self.values = set(values)

    def accepts(self, value):
        return isinstance(value, str) and value in self.values

    def __str__(self):
        return "a str among {" + ", ".join(repr(v) for v in sorted(self.values)) + "}"


class HasMethods:
    """An object with every method named.

    Examples
    --------
    >>> from skfer._validation import HasMethods
    >>> HasMethods(["predict_proba"]).accepts(object())
    False
    """

    def __init__(self, methods):
        self.methods = list(methods)

    def accepts(self, value):
        return all(callable(getattr(value, name, None)) for name in self.methods)

    def __str__(self):
        return f"an object implementing {', '.join(repr(m) for m in self.methods)}"


def _accepts(constraint, value):
    if constraint is None:
        return value is None
    if constraint == "boolean":
        return isinstance(value, (bool, np.bool_))
    if constraint == "array-like":
        return not isinstance(value, (str, bytes, dict)) and (
            hasattr(value, "__len__") or hasattr(value, "shape") or hasattr(value, "__array__"))
    if constraint == "random_state":
        return value is None or isinstance(value, (numbers.Integral, np.random.RandomState)) and not isinstance(value, bool)
    if constraint is callable:
        return callable(value)
    if isinstance(constraint, type):
        return isinstance(value, constraint)
    return constraint.accepts(value)


def _describe(constraint):
    if constraint is None:
        return "None"
    if constraint == "boolean":
        return "a bool"
    if constraint == "array-like":
        return "an array-like"
    if constraint == "random_state":
        return "an int, a numpy RandomState or None"
    if constraint is callable:
        return "a callable"
    if isinstance(constraint, type):
        return f"an instance of {constraint.__name__!r}"
    return str(constraint)


def check_params(params, constraints, owner):
    """Raise a ValueError naming the first parameter no constraint of its own accepts.

    Parameters
    ----------
    params : dict
        Parameter names to values; names without constraints are not checked.
    constraints : dict
        Parameter names to lists of constraints.
    owner : str
        The class or function, for the message.

    Examples
    --------
    >>> from numbers import Real
    >>> from skfer._validation import Interval, check_params
    >>> check_params({"dropout": 1.5}, {"dropout": [Interval(Real, 0, 1, closed="left"), None]}, "FERClassifier")
    Traceback (most recent call last):
    ...
    ValueError: The 'dropout' parameter of FERClassifier must be a float in the range [0, 1) or None. Got 1.5 instead.
    """
    for name, value in params.items():
        allowed = constraints.get(name)
        if allowed is None or allowed == "no_validation":
            continue
        if not any(_accepts(constraint, value) for constraint in allowed):
            described = [_describe(c) for c in allowed]
            options = described[0] if len(described) == 1 else f"{', '.join(described[:-1])} or {described[-1]}"
            raise ValueError(f"The {name!r} parameter of {owner} must be {options}. Got {value!r} instead.")


def validate_params(constraints):
    """Decorate a function so that its arguments are checked against ``constraints`` at every call.

    Examples
    --------
    >>> from numbers import Integral
    >>> from skfer._validation import Interval, validate_params
    >>> @validate_params({"n": [Interval(Integral, 1, None, closed="left")]})
    ... def twice(n):
    ...     return 2 * n
    >>> twice(0)
    Traceback (most recent call last):
    ...
    ValueError: The 'n' parameter of twice must be an int in the range [1, inf). Got 0 instead.
    """

    def decorate(function):
        signature = inspect.signature(function)

        @functools.wraps(function)
        def checked(*args, **kwargs):
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            check_params(bound.arguments, constraints, function.__qualname__)
            return function(*args, **kwargs)

        return checked

    return decorate


def passes_validation(estimator, X):
    """Whether ``validate_data(estimator, X, dtype=np.float32, reset=False)`` would return ``X`` unchanged.

    A pipeline's steps validate the same faces one after another; a step
    handed what the step before returned skips the rest of
    ``validate_data``, whose cost per call is a large part of predicting one
    face with the 8-bit engine.

    Parameters
    ----------
    estimator : estimator
        Fitted without feature names (else ``validate_data`` has names to check).
    X : object
        What it was given.

    Returns
    -------
    bool
        True for a non-empty C-contiguous float32 ndarray of shape
        (n, ``estimator.n_features_in_``) with only finite values.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from skfer._validation import passes_validation
    >>> step = FunctionTransformer().fit(np.zeros((1, 4)))
    >>> passes_validation(step, np.zeros((1, 4), np.float32))
    True
    >>> passes_validation(step, np.zeros((1, 4))), passes_validation(step, np.full((1, 4), np.nan, np.float32))
    (False, False)
    """
    return (
        type(X) is np.ndarray and X.dtype == np.float32 and X.ndim == 2 and len(X) > 0
        and X.shape[1] == estimator.n_features_in_ and not hasattr(estimator, "feature_names_in_")
        and X.flags.c_contiguous and bool(np.isfinite(X).all())
    )
