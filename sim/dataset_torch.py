"""The torch view of a :class:`~twinsim.sim.dataset_load.ClipReader` (imported lazily)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset
from twinsim.sim.dataset_load import ClipReader

__all__ = ["ClipDataset"]


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
