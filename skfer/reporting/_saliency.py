"""SaliencyDisplay: where in each face a classifier looked, as maps over the faces."""

import math

import numpy as np

from .._labels import emotion_names
from ..inference._saliency import METHODS, saliency_maps


def _class_names(classes):
    """Emotion names of FER2013 classes; other classes as text."""
    try:
        return emotion_names(classes)
    except ValueError:
        return [str(label) for label in np.asarray(classes).tolist()]


class SaliencyDisplay:
    """Saliency maps over their faces, in a grid, with the emotion and probability each explains.

    A saliency map says which pixels of a 48x48 face the prediction rests
    on. Two methods compute them (``method`` of :meth:`from_estimator`):

    * ``"gradcam"`` (Grad-CAM, Selvaraju et al. 2017) weighs the feature
      maps of the last convolutional block by the gradient of the class's
      score (its logit), keeps the positive part and resizes it from the
      block's grid (11x11 in the default network) to the square of the face
      the network sees (the central 44x44 of the default network, whose
      border of 2 pixels gets 0). It explains the float Keras network: where
      the pipeline predicts with the 8-bit engine (``load_pretrained()``'s
      default), the probabilities shown are the engine's and the map the
      float network's, whose probabilities differ from them in the second
      decimal; nor does it average over a classifier's ``tta`` views.
      Gradients come from TensorFlow, so it runs on Keras' TensorFlow
      backend only (other backends are refused by name).
    * ``"occlusion"`` (occlusion sensitivity, Zeiler & Fergus 2014) covers
      the face square by square (12 pixels, every 4 pixels, filled with the
      face's mean grey) and records how much the class's probability falls;
      each pixel gets the mean fall over the squares covering it. It calls
      only ``predict_proba``: it explains exactly what is predicted, on
      every backend, the 8-bit engine and
      :class:`~skfer.ONNXEmotionPredictor` included, at the cost of 100
      predictions per face. Its maps are signed: negative where covering
      the face raises the probability.

    How both fare on the sanity checks of Adebayo et al. (NeurIPS 2018)
    with the shipped model is measured in
    ``benchmarks/results/saliency_sanity.md``: their maps change when the
    weights are randomized and weigh a smile's mouth over the eyes, but
    neither reaches a rank correlation of 0.8 between a mirrored face's map
    and the mirrored map (the model itself is not mirror-symmetric).

    Use :meth:`from_estimator` to create one. All parameters are stored as
    attributes.

    Parameters
    ----------
    maps : ndarray of shape (n_faces, 48, 48)
        One map per face, pixel for pixel on the face; larger is more
        important.
    faces : ndarray of shape (n_faces, 48, 48)
        The faces, in the values the estimator took.
    target : ndarray of shape (n_faces,)
        The class each map explains, a label of the estimator's ``classes_``.
    target_names : list of str
        The name of each face's class (emotion names for FER2013 labels).
    probabilities : ndarray of shape (n_faces,)
        The estimator's probability of each face's class.
    method : {"gradcam", "occlusion"}
        The method that made the maps.

    Attributes
    ----------
    images_ : list of matplotlib AxesImage
        The maps drawn over the faces, one per face.
    axes_ : ndarray of matplotlib Axes of shape (n_faces,)
        The panel of each face.
    figure_ : matplotlib Figure
        The figure holding the panels.

    See Also
    --------
    skfer.predict_images : Saliency maps of the faces in photos (``explain``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfer import SaliencyDisplay
    >>> X = np.zeros((10, 2304), np.float32)
    >>> X[5:, 1920:] = 255  # class 1 ("Disgust"): a bright chin
    >>> clf = LogisticRegression().fit(X, np.repeat([0, 1], 5))
    >>> display = SaliencyDisplay.from_estimator(clf, X[[0, 9]], method="occlusion")
    >>> display.maps.shape, display.target_names
    ((2, 48, 48), ['Angry', 'Disgust'])
    >>> bool(display.maps[1, 40:].mean() > display.maps[1, :30].mean())
    True
    >>> [ax.get_title() for ax in display.axes_]
    ['Angry 100%', 'Disgust 100%']

    With the shipped model and FER2013 faces (pixel strings, as
    :func:`~skfer.load_fer2013` gives them):

    >>> from skfer import load_fer2013, load_pretrained  # doctest: +SKIP
    >>> val = load_fer2013(usage="PublicTest")  # doctest: +SKIP
    >>> display = SaliencyDisplay.from_estimator(load_pretrained(), val.data[:8])  # doctest: +SKIP
    """

    def __init__(self, maps, faces, *, target, target_names, probabilities, method):
        self.maps = maps
        self.faces = faces
        self.target = target
        self.target_names = target_names
        self.probabilities = probabilities
        self.method = method

    @classmethod
    def from_estimator(
        cls, estimator, X, *, target=None, method="gradcam", layer=None, patch_size=None, stride=None,
        ax=None, n_cols=None, cmap="jet", alpha=0.6,
    ):
        """Compute the saliency map of each face of ``X`` and plot them over the faces.

        Parameters
        ----------
        estimator : classifier with ``predict_proba``
            Fitted. ``"gradcam"`` needs a Keras network: a FERClassifier,
            or a pipeline ending in one (``load_pretrained()``, say);
            ``"occlusion"`` takes any classifier with ``predict_proba``, an
            :class:`~skfer.ONNXEmotionPredictor` included.
        X : array-like of str, or of numbers of shape (n, 2304), (n, 48, 48) or (n, 48, 48, 1)
            Faces in a form the estimator takes: pixel strings or pixel
            values 0-255 for a pipeline, normalized faces for a bare
            FERClassifier.
        target : label or array-like of shape (n_faces,), default=None
            The class each map explains: one label of ``classes_`` for all
            faces or one per face (emotion names and FER2013's labels 0-6
            stand for each other). None: each face's predicted class.
        method : {"gradcam", "occlusion"}, default="gradcam"
            How the maps are made (see the class's description).
        layer : str, default=None
            ``"gradcam"`` only: the name of the network's layer explained,
            one with feature maps as output. None: the last convolutional
            block's output (after its activation, before its pooling;
            ``act3_2`` in the default network).
        patch_size : int, default=None
            ``"occlusion"`` only: side of the covered square in pixels (12
            if None).
        stride : int, default=None
            ``"occlusion"`` only: step between squares in pixels (4 if
            None). Where the steps do not end at the face's edge, one more
            row and column of squares is placed there.
        ax : array-like of matplotlib Axes, default=None
            One Axes per face. If None, a new figure with a grid is made.
        n_cols : int, default=None
            Panels per row of a new grid (at most 8 if None); only without
            ``ax``.
        cmap : str or matplotlib Colormap, default="jet"
            Colormap of the maps.
        alpha : float, default=0.6
            Opacity of the maps at their largest value; each pixel's opacity
            grows with its value, so unimportant pixels show the face.

        Returns
        -------
        display : SaliencyDisplay
            The display, plotted.

        Raises
        ------
        ValueError
            If ``method`` is unknown, a setting of the other method is given,
            ``target`` holds a label not in ``classes_``, ``X`` holds no
            48x48 faces, or ``"gradcam"`` runs on a Keras backend other than
            TensorFlow.
        TypeError
            If ``"gradcam"`` is asked of an estimator without a Keras network.
        sklearn.exceptions.NotFittedError
            If the estimator is not fitted.
        """
        _check_drawing(len(X), ax, n_cols, alpha)  # before the maps, which take a while
        result = saliency_maps(
            estimator, X, target=target, method=method, layer=layer, patch_size=patch_size, stride=stride
        )
        classes = np.asarray(estimator.classes_)
        names = _class_names(classes)
        rows = np.arange(len(result.columns))
        display = cls(
            result.maps,
            result.faces,
            target=classes[result.columns],
            target_names=[names[column] for column in result.columns],
            probabilities=result.proba[rows, result.columns],
            method=method,
        )
        return display.plot(ax=ax, n_cols=n_cols, cmap=cmap, alpha=alpha)

    def plot(self, ax=None, *, n_cols=None, cmap="jet", alpha=0.6):
        """Draw each map over its face, titled with the class and its probability.

        Each map is drawn on its own scale, from 0 to its largest value;
        negative values (occlusion's) are drawn as 0. ``maps`` keeps the raw
        values.

        Parameters
        ----------
        ax : array-like of matplotlib Axes, default=None
            One Axes per face. If None, a new figure with a grid is made.
        n_cols : int, default=None
            Panels per row of a new grid (at most 8 if None); only without
            ``ax``.
        cmap : str or matplotlib Colormap, default="jet"
            Colormap of the maps.
        alpha : float, default=0.6
            Opacity of the maps at their largest value, in [0, 1].

        Returns
        -------
        display : SaliencyDisplay
            The display, with ``images_``, ``axes_`` and ``figure_``.

        Raises
        ------
        ValueError
            If ``ax`` does not hold one Axes per face, ``n_cols`` is given
            with ``ax`` or is not a positive integer, or ``alpha`` is
            outside [0, 1].
        """
        import matplotlib.pyplot as plt

        n = len(self.maps)
        _check_drawing(n, ax, n_cols, alpha)
        if ax is None:
            n_cols = n_cols or min(n, 8)
            n_rows = math.ceil(n / n_cols)
            figure, grid = plt.subplots(
                n_rows, n_cols, figsize=(1.8 * n_cols, 2.05 * n_rows), squeeze=False, layout="constrained"
            )
            for spare in grid.ravel()[n:]:
                spare.set_axis_off()
            axes = grid.ravel()[:n]
        else:
            axes = np.asarray(ax, dtype=object).ravel()
            figure = axes[0].figure
        self.images_ = []
        for panel, face, heat, name, probability in zip(
            axes, self.faces, self.maps, self.target_names, self.probabilities
        ):
            top = heat.max()
            scaled = np.clip(heat / top, 0, 1) if top > 0 else np.zeros_like(heat)
            panel.imshow(face, cmap="gray")
            self.images_.append(panel.imshow(scaled, cmap=cmap, vmin=0, vmax=1, alpha=alpha * scaled))
            panel.set_title(f"{name} {probability:.0%}", fontsize="small")
            panel.set_axis_off()
        self.axes_, self.figure_ = axes, figure
        return self


def _check_drawing(n_faces, ax, n_cols, alpha):
    """Refuse drawing settings that cannot act, naming them."""
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be in [0, 1]; got {alpha!r}.")
    if ax is None:
        if n_cols is not None and (not isinstance(n_cols, (int, np.integer)) or n_cols < 1):
            raise ValueError(f"n_cols must be a positive integer; got {n_cols!r}.")
        return
    if n_cols is not None:
        raise ValueError("n_cols sets the grid of a new figure; with ax, the Axes given set it.")
    if len(np.asarray(ax, dtype=object).ravel()) != n_faces:
        raise ValueError(f"ax must hold one Axes per face ({n_faces}); got {np.asarray(ax, dtype=object).size}.")
