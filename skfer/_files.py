"""Files a run leaves behind: written whole or not at all, in a folder one run holds at a time."""

import errno
import os
import socket
import sys
from pathlib import Path


#: The errors with which a lock that another process holds is refused.
_HELD = frozenset({errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES, errno.EDEADLK})


def write_atomically(path, write):
    """Write ``path`` through a temporary file beside it, then rename it into place.

    A crash or a full disk during ``write`` leaves the previous ``path`` (if
    any) as it was and no partial file under its name.

    Parameters
    ----------
    path : str or path-like
        The file to write.
    write : callable
        Called with the temporary file's path (same folder, same suffix, so
        that writers that choose a format by suffix still work).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skfer._files import write_atomically
    >>> path = Path(tempfile.mkdtemp()) / "metrics.json"
    >>> write_atomically(path, lambda tmp: tmp.write_text("{}"))
    >>> path.read_text(), sorted(p.name for p in path.parent.iterdir())
    ('{}', ['metrics.json'])
    """
    path = Path(path)
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


class FolderInUseError(RuntimeError):
    """Another live process holds the folder a run wants to write.

    Examples
    --------
    >>> from skfer._files import FolderInUseError
    >>> issubclass(FolderInUseError, RuntimeError)
    True
    """


class FolderLock:
    """Hold a folder for one run: a second run on it is refused while the first lives.

    The lock is an operating-system lock on ``<folder>/.lock`` (``flock`` on
    POSIX, ``msvcrt.locking`` on Windows): it ends with the process that
    holds it, so a crashed or killed run never leaves a stale lock behind.
    The file records the holder's process id and host for the error message.

    Parameters
    ----------
    folder : str or path-like
        The folder to hold; created if missing.

    Examples
    --------
    >>> import tempfile
    >>> from skfer._files import FolderInUseError, FolderLock
    >>> folder = tempfile.mkdtemp()
    >>> with FolderLock(folder):
    ...     try:
    ...         FolderLock(folder).__enter__()
    ...     except FolderInUseError as error:
    ...         print("refused")
    refused
    """

    def __init__(self, folder):
        self.folder = Path(folder)

    def __enter__(self):
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / ".lock"
        handle = open(path, "a+")
        try:
            _lock(handle)
        except OSError as exc:
            if exc.errno not in _HELD:  # no lock on this file system (say, ENOLCK): not "in use"
                handle.close()
                raise
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise FolderInUseError(
                f"{self.folder} is in use by another run ({holder}); wait for it to finish, "
                "or give this run another folder."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"process {os.getpid()} on {socket.gethostname()}")
        handle.flush()
        self._handle = handle
        return self

    def __exit__(self, *exc_info):
        handle, self._handle = self._handle, None
        handle.seek(0)
        handle.truncate()
        _unlock(handle)
        handle.close()


if sys.platform == "win32":  # pragma: no cover - CI runs POSIX
    import msvcrt

    def _lock(handle):
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)

    def _unlock(handle):
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(handle):
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(handle):
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
