"""gnnbench's own files and files that appear whole (written beside their target under a temporary name, then
renamed over it)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

#: gnnbench's own source folder: warnings and failing lines from here are gnnbench's, wherever it is installed.
PACKAGE = Path(__file__).resolve().parent


@contextlib.contextmanager
def replaced(path: Path, durable: bool = False) -> Iterator[Path]:
    """A temporary path beside ``path`` for the block to write; renamed over ``path`` when the block ends, and
    removed if it raises. A reader running meanwhile (``compare``, a concurrent first load) sees the old file
    or the new one, never half of one. ``durable``: the new content reaches the disk before the rename (records:
    a power loss must not leave an empty file in place of the old one)."""
    try:
        fd, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    except OSError as exc:  # named by the file meant, not by the temporary one it could not make
        raise type(exc)(exc.errno, exc.strerror, str(path)) from None
    os.close(fd)
    try:
        yield Path(partial)
        if durable:
            fd = os.open(partial, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        os.chmod(partial, 0o644)  # mkstemp's 0o600 would hide the file from the group
        os.replace(partial, path)
    except OSError as exc:  # a full disk: named by the file meant (a write's error names no file at all)
        Path(partial).unlink(missing_ok=True)
        if exc.filename in (None, partial) and exc.errno is not None:
            raise type(exc)(exc.errno, exc.strerror, str(path)) from None
        raise
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
