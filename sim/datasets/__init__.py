"""Datasets at scale: sharded, seeded, resumable ``twinsim generate`` output and its readers.

Modules: ``config`` (``DatasetConfig``, validated), ``scene`` (one scene -> clips), ``backends``
(local processes or Ray, results in order), ``writer`` (shards of .npy arrays), ``manifest``
(manifest.json and the array schema), ``card`` (the dataset's README.md), ``generate`` (the
resumable driver), ``verify`` (checksums and shapes), ``reader`` (torch-free ``ClipReader``),
``torch_dataset`` (``open_dataset``: the torch view). Names below import on first use.
"""

from __future__ import annotations

from twinsim.sim._lazy import lazy_exports

_S = "twinsim.sim.datasets."
_EXPORTS = {
    **dict.fromkeys(["DatasetConfig", "DatasetError"], _S + "config"),
    "generate_dataset": _S + "generate",
    "verify_dataset": _S + "verify",
    "ClipReader": _S + "reader",
    **dict.fromkeys(["ClipDataset", "open_dataset"], _S + "torch_dataset"),
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
