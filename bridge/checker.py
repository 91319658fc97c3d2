"""The physics checker: audit any video against a scene's engine labels.

``check_physics(frames, labels)`` compares a video (a neural prediction, a generated clip, an
engine render) with the engine's labels of the scene it is meant to show - segmentation and RGB
per frame, visibility - and reports where it breaks physics. Each :class:`Finding` names the
object, a frame range and the evidence:

``vanish``
    an object the labels show in view is missing from the video (and nothing of its colour is
    elsewhere). When it was hidden just before, the finding says it *did not reappear after
    occlusion* and its range covers the hidden stretch (the video cannot show when it went).
``appear``
    something in the video the labels do not explain (where they show floor or an occluder has
    just moved away): an object from nowhere. Its range starts where that spot was last seen.
``teleport``
    the object is present but displaced by more than ``teleport_px`` from where the labels put it.
``change_color`` / ``change_size``
    at its labelled place the video shows another colour, or an object of another size or shape.
``sink``
    the object sits lower than labelled and is cut off at the bottom (sinking into the floor or
    into the body below it).
``energy_gain``
    the object moves faster than the labelled motion for several frames (motion that gains
    energy).

Many small bodies of one kind and colour (``drop0 .. drop31``: the juice of a glass; the balls
of a spill) are also checked together as a *crowd* named by their common stem and ``*``
(``drop*``): one drop is a pixel or two, too small to judge alone, but the juice that should
spread on the floor and is not there is a ``vanish`` of ``drop*``.

Frame numbers are scene frames (video frame i is scene frame ``start_frame + i``). A finding's
``start`` is the first frame after the object was last seen agreeing with the labels, ``onset`` the
first frame with visible evidence, ``end`` the last. Violations that happen out of sight lie in
``[start, onset]``; only those in view can be pinned to one frame.

How: per object and frame the labelled pixels (segmentation id) are compared with the video;
pixels differing by more than ``pixel_tol`` (RGB distance) mark a mismatch; the object's colour
(median of its labelled pixels) finds where it went. A state must hold ``persist`` frames in a
row to be reported, so a one-frame glitch of a blurry prediction is not a finding.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
from scipy import ndimage
from twinsim.bridge.checker_frames import (
    _HIDDEN,
    _OK,
    _blur,
    _classify,
    _dilate,
    _dist,
    _Frame,
    _object_colors,
)
from twinsim.bridge.checker_report import KINDS, CheckerConfig, CheckReport, Finding
from twinsim.bridge.checker_tracks import _appear_findings, _runs, _speed_findings
from twinsim.sim import Rollout

__all__ = ["KINDS", "CheckReport", "CheckerConfig", "Finding", "check_physics"]


def _reference(labels: Any) -> tuple[Rollout, int]:
    """(engine Rollout, scene frame of its frame 0) from a Rollout or a RolloutResult."""
    ref = labels if isinstance(labels, Rollout) else getattr(labels, "labels", labels)
    if not isinstance(ref, Rollout):
        raise TypeError(
            "labels must be a twinsim.sim.Rollout or a bridge RolloutResult with engine labels, "
            f"got {type(labels).__name__}"
        )
    if ref.segmentation is None:
        raise ValueError(
            "the labels need 'segmentation' (simulate(..., labels=[..., 'segmentation']))"
        )
    return ref, 0


def _crowds(spec: Any, min_members: int) -> dict[str, list[int]]:
    """``{stem + "*": segmentation ids}`` of bodies sharing a name stem and a colour."""
    groups: dict[tuple[str, tuple[float, ...]], list[int]] = {}
    for i, obj in enumerate(spec.objects):
        stem = obj.name.rstrip("0123456789")
        if stem != obj.name:
            groups.setdefault((stem, tuple(obj.color)), []).append(i + 1)
    out: dict[str, list[int]] = {}
    for (stem, _), ids in groups.items():
        name = stem + "*"
        if len(ids) >= min_members and name not in out and name not in spec.names:
            out[name] = ids
    return out


def check_physics(
    frames: np.ndarray,
    labels: Any,
    *,
    start_frame: int = 0,
    config: CheckerConfig | None = None,
) -> CheckReport:
    """Audit ``frames`` against the engine's labels of the scene they should show.

    Args:
        frames: uint8 (T, H, W, 3), the video to audit; frame i shows scene frame
            ``start_frame + i``.
        labels: a :class:`twinsim.sim.Rollout` with ``segmentation`` (and ``rgb``; without it the
            objects' spec colours are used), or a bridge ``RolloutResult`` of the engine. It must
            cover scene frames ``start_frame .. start_frame + T - 1``.
        start_frame: scene frame of ``frames[0]``.
        config: thresholds (defaults tuned on the engine's impossible twins; see
            ``benchmarks/bench_checker.py``).

    Returns:
        A :class:`CheckReport`; ``report.findings`` is empty when the video agrees with physics.
    """
    cfg = config or CheckerConfig()
    ref, _ = _reference(labels)
    frames = np.asarray(frames)
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"frames must be uint8 (T, H, W, 3), got {frames.dtype} {frames.shape}")
    t_len = len(frames)
    seg_all = ref.segmentation
    if start_frame < 0 or start_frame + t_len > len(seg_all):
        raise ValueError(
            f"frames {start_frame}..{start_frame + t_len - 1} are not all covered by the labels' "
            f"{len(seg_all)} frames"
        )
    if frames.shape[1:3] != seg_all.shape[1:3]:
        raise ValueError(
            f"frames are {frames.shape[2]}x{frames.shape[1]} but the labels are "
            f"{seg_all.shape[2]}x{seg_all.shape[1]}; render the scene at the video's size"
        )
    if ref.rgb is not None:
        rgb_ref = ref.rgb
    else:  # flat colours from the spec: shading is lost, tolerances carry it
        rgb_ref = np.zeros((*seg_all.shape, 3), np.uint8)
        for i, obj in enumerate(ref.spec.objects):
            rgb_ref[seg_all == i + 1] = (np.array(obj.color[:3]) * 255 * 0.8).astype(np.uint8)
        rgb_ref[seg_all == 0] = (np.array(ref.spec.world.floor_color[:3]) * 255 * 0.8).astype(
            np.uint8
        )
    colors = _object_colors(ref, rgb_ref)
    names = list(ref.spec.names)
    seg = seg_all[start_frame : start_frame + t_len]
    rref = rgb_ref[start_frame : start_frame + t_len]
    # a crowd is checked as one more body: its members relabelled to one id past the scene's
    crowds = {}
    for name, ids in _crowds(ref.spec, cfg.crowd).items():
        cid = len(names) + 1 + len(crowds)  # per_obj's order: scene bodies, then crowds
        members = np.isin(seg_all, ids)
        if members.any():
            colors[cid] = np.median(rgb_ref[members], axis=0)
            crowds[name] = (cid, np.where(members[start_frame : start_frame + t_len], cid, seg))
    per_obj: dict[str, list[_Frame]] = {n: [] for n in [*names, *crowds]}
    unexplained: list[list[tuple[np.ndarray, np.ndarray]]] = []
    diffs: list[np.ndarray] = []
    for t in range(t_len):
        v, r, s = frames[t], rref[t], seg[t]
        # compare 3x3-averaged images: a one-pixel edge shift or codec chroma bleed is not physics
        diff = _dist(_blur(v), _blur(r)) > cfg.pixel_tol
        diffs.append(diff)
        for i, n in enumerate(names):
            per_obj[n].append(_classify(v, r, s, diff, i + 1, colors[i + 1], cfg, colors, names))
        for n, (cid, cseg) in crowds.items():
            per_obj[n].append(_classify(v, r, cseg[t], diff, cid, colors[cid], cfg, colors, names))
        # unexplained pixels: differ from the labels away from every labelled object
        extra = diff & ~_dilate(s > 0, cfg.margin + 1)
        # ...and also where an occluder is labelled but the video shows something of another
        # object's colour that is not there (an object in front of it from nowhere)
        comps = []
        lab, k = ndimage.label(extra)
        raw = None
        for c in range(1, k + 1):
            comp = lab == c
            if comp.sum() >= cfg.min_area:
                # the averaged difference spills a pixel around the thing and the margin cuts
                # off its side next to labelled bodies: its box is where the raw pixels differ
                raw = _dist(v, r) > cfg.pixel_tol if raw is None else raw
                comp = comp | (_dilate(comp, 2) & raw)
                comps.append((comp, np.median(v[comp], axis=0)))
        unexplained.append(comps)
    findings: list[Finding] = []
    # a sliver that agrees (an object mostly behind an occluder) does not prove it is intact
    for i, (n, fr) in enumerate(per_obj.items()):
        areas = (crowds[n][1] == crowds[n][0] if n in crowds else seg == i + 1).sum(axis=(1, 2))
        full = max(cfg.min_area, 0.5 * float(areas.max()))
        for t, f in enumerate(fr):
            if f.state == _OK and areas[t] < full:
                f.state = _HIDDEN
    states = {n: [f.state for f in fr] for n, fr in per_obj.items()}
    for n, fr in per_obj.items():
        for start, onset, end in _runs(states[n], cfg.persist):
            kinds = Counter(fr[t].state for t in range(onset, end + 1) if fr[t].state != _HIDDEN)
            kind = kinds.most_common(1)[0][0]
            first = next(t for t in range(onset, end + 1) if fr[t].state == kind)
            ev = fr[first].evidence
            if kind == "vanish" and start < onset:
                seen_before = start > 0 or any(s == _OK for s in states[n][:onset])
                ev = (
                    "did not reappear after occlusion: "
                    if seen_before
                    else "never came into view where labelled: "
                ) + ev
            findings.append(
                Finding(
                    kind,
                    n,
                    start + start_frame,
                    first + start_frame,
                    end + start_frame,
                    ev,
                    fr[first].bbox,
                )
            )
        findings.extend(_speed_findings(n, fr, cfg, start_frame))
    findings.extend(_appear_findings(unexplained, diffs, per_obj, seg, colors, cfg, start_frame))
    findings.sort(key=lambda f: (f.onset, f.object, f.kind))
    return CheckReport(findings, start_frame, t_len, states)
