"""Atomic file writes: the one place twinsim puts files on disk.

Every writer here writes a temporary sibling ``.NAME.tmp-PID-RANDOM.EXT`` and renames it over
``NAME`` (``os.replace``), so a reader or a crash sees the old file or the new one, never half a
file. Temporaries are created like any other file (mode ``0o666`` minus the user's umask), so
outputs get the same permissions as their neighbours; a failed write removes its temporary.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "TEMP_MARK",
    "atomic_dir",
    "atomic_path",
    "copy_file",
    "prepare_output_dir",
    "temp_path",
    "write_bytes",
    "write_json",
    "write_mp4",
    "write_npy",
    "write_npz",
    "write_text",
]

TEMP_MARK = ".tmp-"  # every temporary's name holds it: ``.NAME.tmp-PID-RANDOM.EXT``


def temp_path(path: str | Path) -> Path:
    """A fresh temporary name beside ``path``, keeping its extension (writers pick the
    format from it)."""
    path = Path(path)
    token = f"{os.getpid()}-{secrets.token_hex(4)}"
    return path.with_name(f".{path.name}{TEMP_MARK}{token}{path.suffix}")


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it is renamed to ``path``, on error removed.

    The parent folder of ``path`` is created if needed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


@contextlib.contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Yield a fresh temporary folder beside ``path``; on success it replaces ``path`` whole
    (an existing folder is moved aside, then deleted), on error it is removed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(path)
    tmp.mkdir()
    try:
        yield tmp
        if path.exists():
            old = temp_path(path)
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp, open(tmp, "xb") as fh:
        fh.write(data)
    return Path(path)


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return write_bytes(path, text.encode("utf-8"))


def write_json(path: str | Path, data: Any, *, indent: int = 1, sort_keys: bool = False) -> Path:
    """Write ``data`` as JSON (with a final newline) to ``path`` atomically."""
    return write_text(path, json.dumps(data, indent=indent, sort_keys=sort_keys) + "\n")


def write_npy(path: str | Path, array: np.ndarray) -> Path:
    """Write one array as ``.npy`` (no pickles) to ``path`` atomically."""
    with atomic_path(path) as tmp, open(tmp, "xb") as fh:
        np.save(fh, array, allow_pickle=False)
    return Path(path)


def write_npz(path: str | Path, arrays: Mapping[str, np.ndarray], *, compress: bool = True) -> Path:
    """Write named arrays as ``.npz`` (zip-deflated when ``compress``) to ``path`` atomically."""
    with atomic_path(path) as tmp, open(tmp, "xb") as fh:
        (np.savez_compressed if compress else np.savez)(fh, **arrays)
    return Path(path)


def write_mp4(path: str | Path, frames: np.ndarray, fps: float, *, min_side: int = 256) -> Path:
    """Encode (T, H, W, 3) uint8 frames as H.264 mp4 at ``path`` atomically.

    Frames whose shorter side is under ``min_side`` are enlarged by a whole factor, each pixel a
    block: H.264 keeps colour at half resolution, which smears every edge of a 64 px render
    (a decoded 64 px clip shows each body as a dozen colour fragments), and a player shows a
    64 px video as a stamp. Odd sizes are padded by one edge pixel (yuv420p needs even sizes).
    """
    import imageio.v2 as imageio

    h, w = frames.shape[1:3]
    k = max(1, -(-min_side // max(1, min(h, w))))
    if k > 1:
        frames = frames.repeat(k, axis=1).repeat(k, axis=2)
        h, w = h * k, w * k
    frames = np.pad(frames, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)), mode="edge")
    with (
        atomic_path(path) as tmp,
        imageio.get_writer(
            tmp, fps=fps, codec="libx264", macro_block_size=1, quality=8, pixelformat="yuv420p"
        ) as writer,
    ):
        for frame in frames:
            writer.append_data(frame)
    return Path(path)


def copy_file(src: str | Path, dst: str | Path) -> Path:
    """Copy the bytes of ``src`` to ``dst`` atomically."""
    return write_bytes(dst, Path(src).read_bytes())


def prepare_output_dir(directory: str | Path) -> Path:
    """Create ``directory`` if needed and check it is a writable folder.

    Raises:
        NotADirectoryError: the path (or a parent) exists and is not a folder.
        PermissionError: the folder cannot be written.
    """
    out = Path(directory)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"output path {str(out)!r} exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise NotADirectoryError(f"output path {str(out)!r}: a parent is not a folder") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise PermissionError(f"output folder {str(out)!r} is not writable")
    return out
