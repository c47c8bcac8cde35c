"""A Keras PyDataset that reads the faces of an image folder from their files, batch by batch."""

import warnings

import keras
import numpy as np
from sklearn.utils import check_random_state

from .._constants import N_PIXELS
from ..preprocessing import PixelNormalizer
from ._image_folder import as_detector, list_image_files, read_faces, skipped_summary


class FaceFolderDataset(keras.utils.PyDataset):
    """The faces of an image folder, read from their files batch by batch, for any number of faces.

    The folder is laid out as for :func:`load_image_folder` (one sub-folder
    per class) and only its file names are listed up front; each batch's
    files are read, their faces found (or taken whole) and scaled when Keras
    asks for the batch, by ``workers`` threads ahead of training. Memory
    holds ``max_queue_size`` batches, whatever the number of faces. Train a
    :class:`~skfer.FERClassifier` on it with :func:`fit_dataset`, or pass it
    to ``keras.Model.fit``.

    Batches are ``(faces, labels)``: faces of shape (batch, 2304), float32,
    scaled by ``normalizer``; labels are positions in ``classes_``. A file
    that cannot be read or shows no face is left out of its batch, recorded
    in ``skipped`` and reported in a ``UserWarning`` at the end of the epoch.

    Parameters
    ----------
    path : str or path-like
        The folder; see :func:`load_image_folder`.
    classes : list of str, default=None
        As for :func:`load_image_folder`.
    crop : bool, default=True
        As for :func:`load_image_folder`.
    detector : FaceDetector, default=None
        As for :func:`load_image_folder`.
    batch_size : int, default=32
        Faces per batch.
    shuffle : bool, default=True
        Whether to visit the files in a new random order every epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling.
    normalizer : transformer, default=None
        A fitted transformer applied to each batch of raw pixels 0-255;
        None scales them to [0, 1] (``PixelNormalizer()``).
    workers : int, default=1
        Threads reading batches ahead of training.
    max_queue_size : int, default=10
        Batches read ahead.

    Attributes
    ----------
    filenames : list of pathlib.Path
        Every file, in reading order (the order of the last epoch).
    target : ndarray of shape (n_files,)
        The label of each file, as in :func:`load_image_folder`.
    target_names : list of str
        Class names in label order.
    classes_ : ndarray of shape (n_classes,)
        The distinct labels, sorted; a batch's labels index it.
    skipped : list of (str, str)
        Files left out so far, and why, each listed once.

    See Also
    --------
    load_image_folder : The same faces, all in memory.
    fit_dataset : Train a FERClassifier on this dataset.

    Examples
    --------
    >>> import tempfile, pathlib, cv2, numpy as np
    >>> from skfer.datasets import FaceFolderDataset
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for emotion in ("happy", "sad"):
    ...     (root / emotion).mkdir()
    ...     for i in range(5):
    ...         face = np.full((48, 48), 50 * i, np.uint8)
    ...         _ = cv2.imwrite(str(root / emotion / f"{i}.png"), face)
    >>> data = FaceFolderDataset(root, crop=False, batch_size=4, random_state=0)
    >>> len(data), data.classes_.tolist()
    (3, [3, 4])
    >>> X, y = data[0]
    >>> X.shape, X.dtype, float(X.max()) <= 1.0
    ((4, 2304), dtype('float32'), True)
    """

    def __init__(
        self,
        path,
        *,
        classes=None,
        crop=True,
        detector=None,
        batch_size=32,
        shuffle=True,
        random_state=None,
        normalizer=None,
        workers=1,
        max_queue_size=10,
    ):
        super().__init__(workers=workers, max_queue_size=max_queue_size)
        files, target, self.target_names = list_image_files(path, classes)
        if not files:
            raise ValueError(f"The class sub-folders of {str(path)!r} hold no files.")
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive int; got {batch_size!r}.")
        self.path = path
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.classes_ = np.unique(target)
        self._detector = as_detector(crop, detector)
        if normalizer is None:
            normalizer = PixelNormalizer().fit(np.zeros((1, N_PIXELS), dtype=np.float32))
        self._normalizer = normalizer
        self._random = check_random_state(random_state)
        self._files, self._target = files, target
        self._order = np.arange(len(files))
        self.skipped = []
        self._reported = 0
        if shuffle:
            self._random.shuffle(self._order)

    @property
    def filenames(self):
        return [self._files[i] for i in self._order]

    @property
    def target(self):
        return self._target[self._order]

    def __len__(self):
        return -(-len(self._files) // self.batch_size)

    def __getitem__(self, index):
        rows = self._order[index * self.batch_size : (index + 1) * self.batch_size]
        files = [self._files[i] for i in rows]
        faces, kept, skipped = read_faces(files, self._detector)
        known = {name for name, _ in self.skipped}
        self.skipped.extend(item for item in skipped if item[0] not in known)
        if not len(faces):
            raise ValueError(
                f"Batch {index} has no face: {skipped_summary(skipped, len(files), self.path)}"
            )
        X = self._normalizer.transform(faces.astype(np.float32)).astype(np.float32)
        return X, np.searchsorted(self.classes_, self._target[rows][kept])

    def on_epoch_end(self):
        """Report the files skipped for the first time; draw the next epoch's order."""
        if len(self.skipped) > self._reported:
            new = self.skipped[self._reported :]
            self._reported = len(self.skipped)
            warnings.warn(skipped_summary(new, len(self._files), self.path), UserWarning)
        if self.shuffle:
            self._random.shuffle(self._order)
