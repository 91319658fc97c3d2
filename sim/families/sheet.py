"""Contact sheets: a grid of frames (frames across, seeds down) of a family, for a person to look
at (``twinsim sheet FAMILY --seeds N``)."""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from twinsim.sim.errors import SpecError
from twinsim.sim.families import sample_scene
from twinsim.sim.spec import SceneSpec

__all__ = ["contact_sheet", "save_png", "sheet_frames"]

_GAP = 2  # white pixels between tiles


def sheet_frames(num_frames: int, columns: int) -> list[int]:
    """``columns`` frame indices spread evenly from the first to the last frame."""
    if columns < 1:
        raise SpecError("frames", columns, "must be >= 1")
    return sorted({round(i * (num_frames - 1) / max(1, columns - 1)) for i in range(columns)})


def _resized(spec: SceneSpec, size: int | None) -> SceneSpec:
    if size is None:
        return spec
    cams = tuple(dataclasses.replace(c, width=size, height=size) for c in spec.cameras)
    return dataclasses.replace(spec, cameras=cams)


def contact_sheet(
    family: str,
    seeds: Sequence[int],
    frames: int = 8,
    size: int | None = None,
    renderer: str = "tiny",
    impossible: str | None = None,
) -> np.ndarray:
    """(H, W, 3) uint8 grid: one row per seed, ``frames`` evenly spaced frames across.

    Args:
        family: a registered family. seeds: one row each.
        frames: columns per row. size: square render size in px (None: the family's 64).
        renderer: "tiny" or "pyrender". impossible: a violation kind for the twins.
    """
    from twinsim.sim import simulate

    if not seeds:
        raise SpecError("seeds", seeds, "need at least one seed")
    rows = []
    for seed in seeds:
        spec = _resized(sample_scene(family, seed, impossible=impossible), size)
        idx = sheet_frames(spec.world.num_frames, frames)
        r = simulate(spec, renderer=renderer, labels=["rgb"])
        tiles = [np.pad(r.rgb[i], ((0, _GAP), (0, _GAP), (0, 0)), constant_values=255) for i in idx]
        rows.append(np.concatenate(tiles, axis=1))
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
    return np.concatenate(rows, axis=0)


def save_png(image: np.ndarray, path: str | Path) -> Path:
    """Write ``image`` as a PNG atomically (temp file, then rename); returns the path."""
    import imageio.v3 as iio

    path = Path(path)
    if path.suffix.lower() != ".png":
        raise SpecError("out", str(path), "must end in .png")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".png", dir=path.parent)
    os.close(fd)
    try:
        iio.imwrite(tmp, image, extension=".png")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; a PNG is for sharing
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
