"""Names of the labels a rollout can carry, and their selection.

Each label is opt-in so users pay only for what they ask (see benchmarks/bench_render.py).
"""

from __future__ import annotations

from collections.abc import Iterable

from twinsim.sim.errors import UnknownNameError

__all__ = ["ALL_LABELS", "DEFAULT_LABELS", "resolve_labels"]

ALL_LABELS: tuple[str, ...] = (
    "rgb",  # (T, H, W, 3) uint8
    "depth",  # (T, H, W) float32, metres along the optical axis
    "segmentation",  # (T, H, W) int32, 0 = background/floor, i + 1 = spec.objects[i]
    "objects",  # per-object pose and velocity tracks
    "camera",  # intrinsics K and per-frame extrinsics
    "contacts",  # contact events with normal impulse
    "flow",  # (T, H, W, 2) float32 forward optical flow, pixels
    "visibility",  # per-object bbox, visible fraction and occluded flag
)
DEFAULT_LABELS: tuple[str, ...] = ("rgb", "depth", "segmentation", "objects", "camera")


def resolve_labels(labels: str | Iterable[str] | None) -> frozenset[str]:
    """Normalise a label selection: None = defaults, "all" = every label, or names / a CSV string.

    Raises:
        UnknownNameError: naming the bad label and listing the valid ones.
    """
    if labels is None:
        return frozenset(DEFAULT_LABELS)
    if isinstance(labels, str):
        if labels == "all":
            return frozenset(ALL_LABELS)
        labels = [s.strip() for s in labels.split(",") if s.strip()]
    chosen = frozenset(labels)
    for name in chosen:
        if name not in ALL_LABELS:
            raise UnknownNameError("label", name, ALL_LABELS)
    return chosen
