"""File-system trust boundaries: an exclusive lock per output folder, and paths read from files
confined to the folder that holds them.

Sibling of :mod:`twinsim.sim.fileio` (which writes atomically). Both raise
:class:`~twinsim.sim.errors.UserError` subclasses with messages naming the file and the field.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from twinsim.sim.errors import UserError

try:  # POSIX; elsewhere the lock is a no-op (documented in docs/reliability.md)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

__all__ = ["LOCK_NAME", "FolderLockedError", "UnsafePathError", "confined", "folder_lock"]

LOCK_NAME = ".twinsim.lock"


class FolderLockedError(UserError, RuntimeError):
    """Another process holds the folder's lock."""


class UnsafePathError(UserError, ValueError):
    """A path read from a file points outside the folder it must stay in."""


@contextlib.contextmanager
def folder_lock(folder: str | Path, what: str) -> Iterator[Path]:
    """Hold an exclusive OS lock (``flock``) on ``folder/.twinsim.lock`` for the block.

    The lock file stays (removing it would let a waiting process lock a dead inode); the kernel
    releases the lock when the holder exits, even on ``kill -9``.

    Raises:
        FolderLockedError: another process holds it (the message names its pid and ``what``).
    """
    folder = Path(folder)
    path = folder / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
                raise FolderLockedError(
                    f"{folder} is in use by another {what} (pid {holder}); wait for it to "
                    "finish or choose another output folder"
                ) from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        yield path
    finally:
        os.close(fd)  # releases the lock


def confined(root: str | Path, relative: object, where: str) -> Path:
    """``root / relative`` after checking that ``relative`` (read from file ``where``) is a
    relative path that stays inside ``root`` once ``..`` and symlinks are resolved.

    Raises:
        UnsafePathError: not a string, absolute, or resolving outside ``root``.
    """
    if not isinstance(relative, str) or not relative or "\0" in relative:
        raise UnsafePathError(f"{where}: expected a relative path, got {relative!r}")
    rel = Path(relative)
    base = Path(root).resolve()
    target = (base / rel).resolve()
    if rel.is_absolute() or not target.is_relative_to(base):
        raise UnsafePathError(
            f"{where}: path {relative!r} leads outside {root}; paths in it must stay inside "
            "the folder"
        )
    return Path(root) / rel
