"""The torch view of a dataset: :func:`open_dataset` and the :class:`ClipDataset` it returns.

The torch-free reader is :class:`~twinsim.sim.datasets.reader.ClipReader`; this module is the
only one in ``twinsim.sim.datasets`` that imports torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset
from twinsim.sim.datasets.reader import ClipReader

__all__ = ["ClipDataset", "open_dataset"]


class ClipDataset(Dataset):
    """Map-style dataset of clips: arrays become tensors, metadata stays plain Python."""

    def __init__(self, reader: ClipReader) -> None:
        self.reader = reader

    def __len__(self) -> int:
        return len(self.reader)

    def __getitem__(self, index: int) -> dict[str, Any]:
        item = self.reader.get(index)
        return {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in item.items()}

    @property
    def labels(self) -> tuple[str, ...]:
        """The labels each item carries."""
        return self.reader.labels


def open_dataset(
    root: str | Path,
    split: str = "train",
    labels: list[str] | tuple[str, ...] | str | None = None,
    clip_length: int | None = None,
    stride: int = 1,
    frame_step: int = 1,
) -> Any:
    """A torch ``Dataset`` of clips of ``split`` (works with ``DataLoader(num_workers>0)``).

    Each item is a dict: one tensor per stored array of the chosen labels (``rgb`` (T', H, W,
    3) uint8, ``depth`` (T', H, W) float32, ``object_position`` (T', K, 3), ...; see the
    dataset's README.md), plus ``scene``, ``impossible``, ``pair_id``, ``violation_frame``,
    ``num_objects``, ``start`` (first frame), ``family``, ``split``, ``role``,
    ``violation_kind`` and ``shard``.

    Args:
        root: dataset directory written by ``twinsim generate``.
        split: ``train``, ``val``, ``test`` or ``ood``.
        labels: subset of the stored labels (None: all but ``contacts``).
        clip_length: frames per clip (None: whole scenes).
        stride: frames between consecutive clip starts.
        frame_step: temporal subsampling within a clip.

    Raises:
        DatasetError / UnknownNameError: incomplete dataset, bad split, label or clip length.
    """
    return ClipDataset(ClipReader(root, split, labels, clip_length, stride, frame_step))
