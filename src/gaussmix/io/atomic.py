"""atomic_path: the one way gaussmix writes a file, so that a reader sees the old file or the whole new one.

The content goes to a temporary file beside the target (same directory, so the rename cannot cross file
systems), which is flushed to disk and renamed over the target with ``os.replace`` (atomic on POSIX and Windows).
A replaced file's permission bits are kept (re-saving over a 0600 model leaves it 0600); a new file gets the
usual ``0666 & ~umask``. On any error, ``KeyboardInterrupt`` included, the temporary file is removed and the
target is left as it was.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path

__all__ = ["AtomicFile", "atomic_path", "refuse_overwriting"]


class AtomicFile:
    """A new empty temporary file ``tmp`` beside ``path``; :meth:`commit` moves it over ``path``, :meth:`discard`
    removes it. Use :func:`atomic_path` unless the write outlives one ``with`` block (as ``RowWriter``'s does).

    Examples
    --------
    >>> import tempfile, os
    >>> from gaussmix.io.atomic import AtomicFile
    >>> target = os.path.join(tempfile.mkdtemp(), "out.txt")
    >>> pending = AtomicFile(target)
    >>> _ = pending.tmp.write_text("all rows")
    >>> os.path.exists(target)                 # nothing at the target until the commit
    False
    >>> pending.commit()
    >>> open(target).read()
    'all rows'
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise IsADirectoryError(21, "Is a directory; cannot write a file there", str(self.path))
        self.tmp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(8)}.tmp")
        # O_EXCL: never reuse (or follow a symlink planted at) a name someone else created.
        os.close(os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666))

    def commit(self) -> None:
        """fsync the temporary file, give it the replaced file's permissions, rename it over ``path``."""
        try:
            _fsync_file(self.tmp)
            with contextlib.suppress(FileNotFoundError):
                os.chmod(self.tmp, stat.S_IMODE(os.stat(self.path).st_mode))
            os.replace(self.tmp, self.path)
        except BaseException:
            self.discard()
            raise
        _fsync_directory(self.path.parent)

    def discard(self) -> None:
        """Remove the temporary file; ``path`` is left as it was."""
        self.tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a new empty temporary file beside ``path``; on a clean exit it replaces ``path``, else it is removed.

    The caller writes the temporary file by name (it may reopen it, truncating). A ``path`` that is a directory
    is refused before anything is written.

    Examples
    --------
    >>> import tempfile, os
    >>> target = os.path.join(tempfile.mkdtemp(), "out.txt")
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("done")
    >>> open(target).read()
    'done'
    """
    atomic = AtomicFile(path)
    try:
        yield atomic.tmp
    except BaseException:
        atomic.discard()
        raise
    atomic.commit()


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable where the platform allows it (POSIX); skipped where directories can't be opened."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def refuse_overwriting(
    inputs: Mapping[str, str | os.PathLike[str] | None], outputs: Mapping[str, str | os.PathLike[str] | None],
) -> None:
    """Refuse, before any work, an output that is one of the command's inputs or another output.

    Existing files are compared as files (``os.path.samefile``: symlinks and hard links included), so
    ``-o ./d.csv`` for ``d.csv`` is caught; paths that do not exist yet by absolute path (two outputs to one file).

    Examples
    --------
    >>> import tempfile, os
    >>> from gaussmix.io.atomic import refuse_overwriting
    >>> folder = tempfile.mkdtemp()
    >>> data = os.path.join(folder, "d.csv")
    >>> _ = open(data, "w").write("a\\n1\\n")
    >>> refuse_overwriting({"DATA": data}, {"--output": os.path.join(folder, "labels.csv")})   # fine
    >>> try:
    ...     refuse_overwriting({"DATA": data}, {"--output": data})
    ... except ValueError as error:
    ...     print(str(error).replace(folder + os.sep, "").split(", an input")[0])
    Refusing to write --output 'd.csv': it is the same file as DATA 'd.csv'
    """
    given_outputs = [(what, Path(p)) for what, p in outputs.items() if p is not None]
    for k, (what, out) in enumerate(given_outputs):
        others = [*inputs.items(), *given_outputs[:k]]
        for other_what, other in others:
            if other is not None and _same_file(out, Path(other)):
                kind = "an output" if (other_what, other) in given_outputs else "an input"
                raise ValueError(
                    f"Refusing to write {what} '{out}': it is the same file as {other_what} '{other}', {kind} of "
                    "this command, which would be lost. Choose another output path."
                )


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return a.resolve() == b.resolve()
