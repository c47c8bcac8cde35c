"""Progress within each epoch: a bar on a terminal, a line every few seconds in a log."""

import sys
import time

import keras


def _clock(seconds):
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def _metrics(logs, names=None):
    """", loss 1.2345, accuracy 0.5000" for the numeric entries of Keras' logs."""
    shown = []
    for name, value in (logs or {}).items():
        if names is None or name in names:
            try:
                shown.append(f", {name} {float(value):.4f}")
            except (TypeError, ValueError):
                continue
    return "".join(shown)


class EpochProgress(keras.callbacks.Callback):
    """Report faces done, faces per second and time left, within every epoch.

    On a terminal one line is redrawn in place; elsewhere (a log file, a
    notebook's captured output) a new line is written every ``every_s``
    seconds and at the end of each epoch, so a long epoch is never silent.
    :class:`FERClassifier` uses it for ``verbose=1``.

    Parameters
    ----------
    n_samples : int
        Faces per epoch.
    epochs : int
        Last epoch of the fit (for "epoch 3/30").
    every_s : float, default=10.0
        Seconds between lines when the output is not a terminal.
    stream : file-like, default=None
        Where to write; ``sys.stderr`` if None.

    Examples
    --------
    >>> import io
    >>> from skfer._progress import EpochProgress
    >>> out = io.StringIO()
    >>> progress = EpochProgress(n_samples=100, epochs=2, stream=out)
    >>> progress.params = {"steps": 4}
    >>> progress.on_epoch_begin(0)
    >>> progress.on_epoch_end(0, {"loss": 1.5, "accuracy": 0.25})
    >>> "epoch 1/2" in out.getvalue() and "accuracy 0.2500" in out.getvalue()
    True
    """

    def __init__(self, n_samples, epochs, every_s=10.0, stream=None):
        super().__init__()
        self.n_samples = n_samples
        self.epochs = epochs
        self.every_s = every_s
        self.stream = stream

    def _write(self, text, final):
        stream = self.stream or sys.stderr
        if stream.isatty():
            stream.write("\r" + text.ljust(self._width) + ("\n" if final else ""))
            self._width = len(text)
        else:
            stream.write(text + "\n")
        stream.flush()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._start = self._last = time.perf_counter()
        self._width = 0

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        stream = self.stream or sys.stderr
        if now - self._last < (0.5 if stream.isatty() else self.every_s):
            return
        self._last = now
        steps = self.params.get("steps") or 1
        done = min(self.n_samples, round(self.n_samples * (batch + 1) / steps))
        rate = done / max(now - self._start, 1e-9)
        left = (self.n_samples - done) / max(rate, 1e-9)
        shown = _metrics(logs, ("loss", "accuracy"))
        self._write(
            f"epoch {self._epoch + 1}/{self.epochs}: {done:,}/{self.n_samples:,} faces, "
            f"{rate:,.0f} faces/s, {_clock(left)} left{shown}",
            final=False,
        )

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self._start
        shown = _metrics({k: v for k, v in (logs or {}).items() if k != "epoch_seconds"})  # time shown already
        self._write(
            f"epoch {epoch + 1}/{self.epochs}: {self.n_samples:,} faces in {_clock(seconds)} "
            f"({self.n_samples / max(seconds, 1e-9):,.0f} faces/s){shown}",
            final=True,
        )
