"""Per-object visibility labels: 2D box of visible pixels, visible fraction, occluded flag.

The visible fraction is (pixels of the body in the frame's segmentation) / (pixels of its
silhouette when drawn alone, nothing else in the scene).
"""

from __future__ import annotations

import dataclasses

import numpy as np
from twinsim.sim.render.base import BodyView, Renderer
from twinsim.sim.render.camera import CameraPose
from twinsim.sim.spec import LightSpec, WorldSpec

__all__ = ["silhouette_areas", "visibility"]


def silhouette_areas(
    renderer: Renderer,
    client: int,
    bodies: list[BodyView],
    camera: CameraPose,
    light: LightSpec,
    world: WorldSpec,
) -> np.ndarray:
    """(N,) int64 pixel count of each body drawn alone (0 for absent bodies), spec order."""
    areas = np.zeros(len(bodies), np.int64)
    fast = getattr(renderer, "render_silhouettes", None)
    if fast is not None:
        masks = fast(client, bodies, camera)
        for i, b in enumerate(bodies):
            if b.visible and b.seg_id in masks:
                areas[i] = int(masks[b.seg_id].sum())
        return areas
    alone = dataclasses.replace(world, floor=False)
    for i, b in enumerate(bodies):
        if b.visible:
            f = renderer.render(
                client, [b], camera, light, alone, rgb=False, depth=False, segmentation=True
            )
            areas[i] = int((f.segmentation == b.seg_id).sum())
    return areas


def visibility(
    segmentation: np.ndarray, areas: np.ndarray, present: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels of one frame for N bodies (seg id i + 1 = body i).

    Returns:
        bbox (N, 4) float32 (x0, y0, x1, y1) of visible pixels, x1/y1 exclusive, -1 if none;
        visible_fraction (N,) float32 in [0, 1]; occluded (N,) bool: present, would be in view
        alone, but no pixel visible.
    """
    n = len(areas)
    h, w = segmentation.shape
    ids = segmentation.reshape(-1)
    keep = (ids > 0) & (ids <= n)
    ids = ids[keep]
    rows, cols = np.divmod(np.flatnonzero(keep), w)
    counts = np.bincount(ids, minlength=n + 1)[1:]
    x0 = np.full(n + 1, w, np.int64)
    y0 = np.full(n + 1, h, np.int64)
    x1 = np.full(n + 1, -1, np.int64)
    y1 = np.full(n + 1, -1, np.int64)
    np.minimum.at(x0, ids, cols)
    np.minimum.at(y0, ids, rows)
    np.maximum.at(x1, ids, cols)
    np.maximum.at(y1, ids, rows)
    bbox = np.stack([x0[1:], y0[1:], x1[1:] + 1, y1[1:] + 1], -1).astype(np.float32)
    bbox[counts == 0] = -1
    frac = np.where(areas > 0, counts / np.maximum(areas, 1), 0.0)
    frac = np.clip(frac, 0.0, 1.0).astype(np.float32)
    occluded = np.asarray(present, bool) & (areas > 0) & (counts == 0)
    return bbox, frac, occluded
