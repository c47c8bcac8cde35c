"""A Pipeline that prepares validation data with the same steps as training data."""

from sklearn.pipeline import Pipeline

from ..preprocessing import PixelNormalizer, PixelStringTransformer
from ._classifier import FERClassifier


class FERPipeline(Pipeline):
    """A scikit-learn Pipeline whose ``fit`` also takes validation data.

    Keras monitors validation data after every epoch (for early stopping and
    learning-rate reduction), but a plain Pipeline would hand it to the final
    step untransformed. ``FERPipeline.fit(X, y, validation_data=(X_val, y_val))``
    fits the preprocessing steps on ``X``, transforms ``X_val`` with them and
    passes both to the final step. Everything else is
    :class:`sklearn.pipeline.Pipeline`.

    Parameters
    ----------
    steps : list of (str, estimator) tuples
        The steps, as for :class:`~sklearn.pipeline.Pipeline`; the last one
        must accept ``validation_data`` in ``fit`` when it is given.
    memory : str or object with the joblib.Memory interface, default=None
        Used to cache the fitted transformers.
    verbose : bool, default=False
        Whether to print the time each step takes.

    See Also
    --------
    make_fer_pipeline : Build the default FERPipeline.

    Examples
    --------
    >>> import numpy as np
    >>> from skfer import FERClassifier, FERPipeline, PixelNormalizer
    >>> X, y = np.zeros((8, 2304)), [0, 1] * 4
    >>> pipe = FERPipeline([("norm", PixelNormalizer()),
    ...                     ("clf", FERClassifier(architecture__filters=(2,), dropout=0.1,
    ...                                           architecture__dense_units=4, epochs=1))])
    >>> pipe.fit(X, y, validation_data=(X[:4], y[:4])).predict(X).shape
    (8,)
    """

    def fit(self, X, y=None, *, validation_data=None, **params):
        """Fit every step; prepare ``validation_data`` with the fitted transformers.

        Parameters
        ----------
        X : iterable
            Training data for the first step.
        y : iterable, default=None
            Training targets.
        validation_data : tuple (X_val, y_val), default=None
            Raw validation data, in the same form as ``X`` and ``y``.
        **params
            Fit parameters as ``stepname__param``.

        Returns
        -------
        self : FERPipeline
            The fitted pipeline.
        """
        if validation_data is None:
            return super().fit(X, y, **params)
        X_val, y_val = validation_data
        name, final = self.steps[-1]
        prefix = f"{name}__"
        final_params = {k[len(prefix) :]: v for k, v in params.items() if k.startswith(prefix)}
        head_params = {k: v for k, v in params.items() if not k.startswith(prefix)}
        head = self[:-1]
        Xt = head.fit_transform(X, y, **head_params)
        self.steps[:-1] = head.steps
        final.fit(Xt, y, validation_data=(head.transform(X_val), y_val), **final_params)
        return self


def make_fer_pipeline(classifier=None, *, normalize="scale"):
    """Build the standard pipeline: pixel strings -> pixels -> normalized -> classifier.

    Parameters
    ----------
    classifier : estimator, default=None
        The final step; ``FERClassifier()`` if None.
    normalize : {"scale", "standardize"}, default="scale"
        The :class:`PixelNormalizer` method.

    Returns
    -------
    FERPipeline
        Steps named ``pixelstringtransformer``, ``pixelnormalizer`` and
        ``ferclassifier`` (or the classifier's class name, lowercased).

    Examples
    --------
    >>> from skfer import make_fer_pipeline
    >>> list(make_fer_pipeline().named_steps)
    ['pixelstringtransformer', 'pixelnormalizer', 'ferclassifier']
    """
    classifier = FERClassifier() if classifier is None else classifier
    steps = [PixelStringTransformer(), PixelNormalizer(method=normalize), classifier]
    return FERPipeline([(type(step).__name__.lower(), step) for step in steps])
