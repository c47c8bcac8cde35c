"""One progress reporter for long jobs (training epochs, folders of photos): a bar on a terminal, a line every few seconds in a log."""

import sys
import time


def clock(seconds):
    """Seconds as a clock: "m:ss", or "h:mm:ss" from an hour.

    Examples
    --------
    >>> from skfer._progress import clock
    >>> clock(75), clock(3725)
    ('1:15', '1:02:05')
    """
    seconds = int(round(seconds))
    hours, minutes = divmod(seconds // 60, 60)
    return f"{hours}:{minutes:02d}:{seconds % 60:02d}" if hours else f"{minutes}:{seconds % 60:02d}"


def metrics_text(logs, names=None):
    """", loss 1.2345, accuracy 0.5000" for the numeric entries of Keras' logs (those in ``names``).

    Examples
    --------
    >>> from skfer._progress import metrics_text
    >>> metrics_text({"loss": 1.23456, "accuracy": 0.5, "note": "x"})
    ', loss 1.2346, accuracy 0.5000'
    """
    shown = []
    for name, value in (logs or {}).items():
        if names is None or name in names:
            try:
                shown.append(f", {name} {float(value):.4f}")
            except (TypeError, ValueError):
                continue
    return "".join(shown)


class Progress:
    """Items done, items per second and time left, written to ``stream``.

    On a terminal one line is redrawn in place (at most twice a second);
    elsewhere (a log file, a notebook's captured output) a new line is
    written after the first item, every ``every_s`` seconds and at the end,
    so a long job is never silent. ``skfer predict`` reports files with it,
    :class:`skfer.estimator._callbacks.EpochProgress` the faces of each training epoch.

    Parameters
    ----------
    unit : str
        What is counted ("faces", "files").
    every_s : float, default=10.0
        Seconds between lines when the output is not a terminal.
    stream : file-like, default=None
        Where to write; ``sys.stderr`` if None.

    Examples
    --------
    >>> import io
    >>> from skfer._progress import Progress
    >>> out = io.StringIO()
    >>> progress = Progress("files", stream=out)
    >>> progress.start(total=2, label="[predict] ")
    >>> progress.update(1, ", 1 face")
    >>> progress.update(2, ", 3 faces")
    >>> out.getvalue().splitlines()[-1].startswith("[predict] 2/2 files")
    True
    """

    def __init__(self, unit, every_s=10.0, stream=None):
        self.unit = unit
        self.every_s = every_s
        self.stream = stream

    def start(self, total, label=""):
        """Begin counting ``total`` items; ``label`` starts every line."""
        self.total, self.label = total, label
        self._start = self._shown = time.perf_counter()
        self._width = 0
        self._lines = 0

    def elapsed(self):
        """Seconds since :meth:`start`."""
        return time.perf_counter() - self._start

    def left(self, done):
        """Seconds left at the rate so far, ``done`` items in."""
        return (self.total - done) * self.elapsed() / max(done, 1e-9)

    def update(self, done, suffix="", final=None):
        """Report ``done`` items; ``suffix`` ends the line. The last item (or ``final``) always writes."""
        final = done >= self.total if final is None else final
        stream = self.stream or sys.stderr
        tty = stream.isatty()
        now = time.perf_counter()
        if not final and self._lines and now - self._shown < (0.5 if tty else self.every_s):
            return
        self._shown = now
        rate = done / max(now - self._start, 1e-9)
        text = (
            f"{self.label}{done:,}/{self.total:,} {self.unit}, {rate:,.0f} {self.unit}/s"
            + ("" if final else f", {clock(self.left(done))} left")
            + suffix
        )
        self.write(text, final)

    def write(self, text, final):
        """Write one line: redrawn in place on a terminal, appended elsewhere."""
        stream = self.stream or sys.stderr
        if stream.isatty():
            stream.write("\r" + text.ljust(self._width) + ("\n" if final else ""))
            self._width = 0 if final else len(text)
        else:
            stream.write(text + "\n")
        stream.flush()
        self._lines += 1


def resolve_verbose(verbose, stream=None):
    """``verbose`` as 0, 1 or 2: ``"auto"`` is 1 where a person watches (a terminal or a notebook), else 0.

    Parameters
    ----------
    verbose : {"auto", 0, 1, 2} or bool
        FERClassifier's ``verbose``.
    stream : file-like, default=None
        Where progress goes; ``sys.stderr`` if None.

    Examples
    --------
    >>> import io
    >>> from skfer._progress import resolve_verbose
    >>> resolve_verbose("auto", io.StringIO()), resolve_verbose(2), resolve_verbose(True)
    (0, 2, 1)
    """
    if verbose != "auto":
        return int(verbose)
    stream = sys.stderr if stream is None else stream
    in_notebook = "ipykernel" in sys.modules
    return int(in_notebook or bool(getattr(stream, "isatty", lambda: False)()))
