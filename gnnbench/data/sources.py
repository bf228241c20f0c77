"""Where raw dataset files come from, and proof that they are the right ones.

Raw files are looked up under, in order: ``--data-root``, ``$GNNBENCH_DATA``, ``./datasets`` and the
``datasets/`` folder of the gnnbench checkout. Every file is checked against the sha256 sums in
``gnnbench/data/SHA256SUMS`` (the same list ``sha256sum -c`` reads), then copied into a cache root
(``$GNNBENCH_CACHE``, else ``$XDG_CACHE_HOME/gnnbench``, else ``~/.cache/gnnbench``). Loaders read the cache
copy, so the ``processed/`` folders PyG writes next to ``raw/`` never land in the repository. When no local
copy exists, the dataset's own downloader fills the cache and the same checksums are verified.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import socket
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

from gnnbench.errors import DataError
from gnnbench.files import replaced

CHECKSUMS = Path(__file__).with_name("SHA256SUMS")
PROJECT_DATASETS = Path(__file__).resolve().parents[2] / "datasets"
DOWNLOAD_TIMEOUT_S = 30
#: cache locks this process holds: flock is per open file, so taking one again would wait forever
_held: set[str] = set()


def data_roots(explicit: str | os.PathLike | None = None) -> list[Path]:
    """Candidate roots, highest priority first, without duplicates."""
    candidates = [explicit, os.environ.get("GNNBENCH_DATA"), Path.cwd() / "datasets", PROJECT_DATASETS]
    roots: list[Path] = []
    for c in candidates:
        if c and (p := Path(c).expanduser().resolve()) not in roots:
            roots.append(p)
    return roots


def cache_root() -> Path:
    """Where prepared datasets are cached: ``$GNNBENCH_CACHE``, else ``$XDG_CACHE_HOME/gnnbench``, else
    ``~/.cache/gnnbench``, so the checkout's vendored raw files stay as shipped."""
    if env := os.environ.get("GNNBENCH_CACHE"):
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "gnnbench"


@cache
def checksums(name: str) -> dict[str, str]:
    """``{relative path: sha256}`` for the raw files of dataset ``name`` (paths start with ``name/``)."""
    sums: dict[str, str] = {}
    for line in CHECKSUMS.read_text().splitlines():
        digest, _, rel = line.partition("  ")
        if rel.startswith(f"{name}/"):
            sums[rel] = digest
    if not sums:
        raise DataError(f"no checksums for dataset '{name}' in {CHECKSUMS}")
    return sums


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify(root: Path, name: str) -> None:
    """Raise :class:`DataError` naming the first missing or corrupted file of ``name`` under ``root``."""
    for rel, digest in checksums(name).items():
        path = root / rel
        if not path.is_file():
            raise DataError(f"dataset '{name}': file {path} is missing (expected by {CHECKSUMS.name})")
        actual = sha256(path)
        if actual != digest:
            raise DataError(f"dataset '{name}': checksum mismatch for {path}: expected sha256 {digest}, got {actual}")


def find_local(name: str, explicit: str | os.PathLike | None = None) -> Path | None:
    """The first root holding a folder ``name``, or None."""
    return next((r for r in data_roots(explicit) if (r / name).is_dir()), None)


@contextlib.contextmanager
def prepared(name: str, explicit: str | os.PathLike | None = None,
             download: Callable[[Path], None] | None = None) -> Iterator[Path]:
    """A cache root holding verified raw files of ``name`` (copied from a local root, else downloaded), locked
    for the ``with`` block.

    A loader builds its dataset inside the block: the ``processed/`` files PyG writes there on first use are
    then written by one process at a time, and no process reads a half-written one. Cheap when the cache is
    already good.
    """
    cache_dir = cache_root()
    with cache_lock(name):
        _fill(cache_dir, name, explicit, download)
        yield cache_dir


def _fill(cache_dir: Path, name: str, explicit: str | os.PathLike | None,
          download: Callable[[Path], None] | None) -> None:
    source = find_local(name, explicit)
    if source is not None:
        verify(source, name)
        if not _cache_matches(cache_dir, name):
            _copy_raw(source, cache_dir, name)
        return
    if _cache_matches(cache_dir, name):
        return
    looked = ", ".join(str(r) for r in data_roots(explicit))
    if download is None:
        raise DataError(f"dataset '{name}' not found: looked for {name}/ under {looked}")
    try:
        with _socket_timeout(DOWNLOAD_TIMEOUT_S):
            download(cache_dir)
    except (OSError, zipfile.BadZipFile, tarfile.TarError, EOFError) as exc:  # network, disk, a truncated archive
        raise DataError(  # a bug in the loader stays a traceback, not bad input
            f"dataset '{name}' not found under {looked} and the download failed ({type(exc).__name__}: {exc}); "
            f"put its raw files under <root>/{name}/ and pass --data-root or set GNNBENCH_DATA"
        ) from exc
    verify(cache_dir, name)


def _cache_matches(cache_dir: Path, name: str) -> bool:
    try:
        verify(cache_dir, name)
    except DataError:
        return False
    return True


def _copy_raw(source: Path, cache_dir: Path, name: str) -> None:
    """Copy the checksummed files, then drop stale processed files that were built from other raw files."""
    for rel in checksums(name):
        dst = cache_dir / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        with replaced(dst) as partial:
            shutil.copyfile(source / rel, partial)
    shutil.rmtree(cache_dir / name / "processed", ignore_errors=True)


@contextlib.contextmanager
def cache_lock(key: str) -> Iterator[None]:
    """An exclusive advisory lock named ``key`` in the cache folder for the ``with`` block, across processes.
    Taking it again inside the block raises at once (the lock is not re-entrant, and would wait forever)."""
    if key in _held:
        raise RuntimeError(f"cache lock '{key}' is already open in this process, and it is not re-entrant")
    cache_dir = cache_root()
    cache_dir.mkdir(parents=True, exist_ok=True)
    # read-only: flock needs no write access, so a lock file another user made in a shared cache locks as well
    with os.fdopen(os.open(cache_dir / f".{key}.lock", os.O_RDONLY | os.O_CREAT, 0o644)) as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        _held.add(key)
        try:
            yield
        finally:
            _held.discard(key)
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def _socket_timeout(seconds: float) -> Iterator[None]:
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def fingerprint(name: str) -> str:
    """A short digest of the raw files' checksums: the dataset version a record refers to."""
    lines = "\n".join(f"{d}  {r}" for r, d in sorted(checksums(name).items()))
    return hashlib.sha256(lines.encode()).hexdigest()[:16]
