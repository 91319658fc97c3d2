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

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from scipy import ndimage
from twinsim.sim import Rollout

__all__ = ["KINDS", "CheckReport", "CheckerConfig", "Finding", "check_physics"]

KINDS: tuple[str, ...] = (
    "vanish",
    "appear",
    "teleport",
    "change_color",
    "change_size",
    "sink",
    "energy_gain",
)
_OK, _HIDDEN = "ok", "hidden"


@dataclass(frozen=True)
class CheckerConfig:
    """Thresholds of the checker (pixels and 0..441 RGB distances).

    Attributes:
        pixel_tol: RGB distance above which a video pixel differs from the labelled frame.
        color_tol: RGB distance within which a pixel has an object's colour.
        min_area: labelled pixels an object needs in a frame to be checked there.
        recolor_tol: RGB distance between the medians of an object's inner pixels (video vs
            labels) that counts as a change of colour.
        mismatch: share of an object's labelled pixels that must differ for a mismatch.
        shape_mismatch: share of pixels around a matching object that must differ (size/shape).
        teleport_px: centroid displacement that counts as a teleport.
        sink_px: downward displacement (with the bottom cut off) that counts as sinking.
        speed_px: extra speed (px/frame) above the labelled motion that counts as energy gain.
        persist: consecutive checked frames a state must hold to be reported.
        margin: pixels around labelled objects ignored when looking for unexplained things
            (edges of a moving body in a blurry prediction).
        crowd: bodies with one name stem (``drop`` of ``drop0``, ``drop1``, ...) and one colour
            that are also checked together as one crowd, when there are at least this many.
    """

    pixel_tol: float = 65.0
    recolor_tol: float = 40.0
    color_tol: float = 70.0
    min_area: int = 3
    mismatch: float = 0.5
    shape_mismatch: float = 0.3
    teleport_px: float = 1.5
    sink_px: float = 2.0
    speed_px: float = 2.0
    persist: int = 2
    margin: int = 1
    crowd: int = 5

    def __post_init__(self) -> None:
        if self.persist < 1 or self.min_area < 1 or self.margin < 0:
            raise ValueError("persist and min_area must be >= 1 and margin >= 0")
        if self.crowd < 2:
            raise ValueError("crowd must be >= 2 (bodies checked together)")
        if not 0 < self.mismatch <= 1 or not 0 < self.shape_mismatch <= 1:
            raise ValueError("mismatch and shape_mismatch are shares in (0, 1]")


@dataclass(frozen=True)
class Finding:
    """One physics violation found in a video.

    Attributes:
        kind: one of :data:`KINDS`.
        object: the scene object's name, a crowd's stem and ``*`` (``"drop*"``), or
            ``"unknown-N"`` for something the scene lacks.
        start: first scene frame the violation may have happened at.
        onset: first scene frame with visible evidence.
        end: last scene frame with evidence.
        evidence: what was measured, in words and numbers.
        bbox: (x0, y0, x1, y1) pixels where the evidence is at ``onset``.
    """

    kind: str
    object: str
    start: int
    onset: int
    end: int
    evidence: str
    bbox: tuple[int, int, int, int]

    def covers(self, frame: int, slack: int = 0) -> bool:
        """True when ``frame`` lies in ``[start - slack, onset + slack]``."""
        return self.start - slack <= frame <= self.onset + slack

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CheckReport:
    """The checker's result: findings plus per-object, per-frame states.

    ``states[name]`` is a list with one entry per video frame: "ok", "hidden" (too few
    labelled pixels to check) or the kind the frame looked like.
    """

    findings: list[Finding]
    start_frame: int
    num_frames: int
    states: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.findings

    def summary(self) -> str:
        if not self.findings:
            return f"no physics findings in {self.num_frames} frames"
        lines = [f"{len(self.findings)} physics finding(s) in {self.num_frames} frames:"]
        for f in self.findings:
            lines.append(
                f"  {f.kind} of {f.object}: frames {f.start}-{f.end} (seen from {f.onset}); "
                f"{f.evidence}"
            )
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "start_frame": self.start_frame,
            "num_frames": self.num_frames,
            "findings": [f.to_dict() for f in self.findings],
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2)


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


def _dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sqrt(((a.astype(np.float32) - b.astype(np.float32)) ** 2).sum(-1))


def _bbox(mask: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return (-1, -1, -1, -1)
    return (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)


def _centroid(mask: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(mask)
    return np.array([xs.mean(), ys.mean()]) if len(xs) else np.array([np.nan, np.nan])


def _largest(mask: np.ndarray, min_area: int) -> np.ndarray | None:
    lab, n = ndimage.label(mask)
    if n == 0:
        return None
    sizes = ndimage.sum(mask, lab, range(1, n + 1))
    best = int(np.argmax(sizes))
    return lab == best + 1 if sizes[best] >= min_area else None


def _blur(img: np.ndarray) -> np.ndarray:
    return ndimage.uniform_filter(img.astype(np.float32), size=(3, 3, 1))


def _dilate(mask: np.ndarray, r: int) -> np.ndarray:
    return ndimage.binary_dilation(mask, iterations=r) if r > 0 else mask


@dataclass
class _Frame:
    """One object's measurements in one frame."""

    state: str
    evidence: str = ""
    bbox: tuple[int, int, int, int] = (-1, -1, -1, -1)
    centroid: np.ndarray | None = None
    ref_centroid: np.ndarray | None = None


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


def _object_colors(ref: Rollout, rgb_ref: np.ndarray) -> dict[int, np.ndarray]:
    colors = {}
    for i, obj in enumerate(ref.spec.objects):
        m = ref.segmentation == i + 1
        if m.any():
            colors[i + 1] = np.median(rgb_ref[m], axis=0)
        else:
            colors[i + 1] = np.array(obj.color[:3], np.float32) * 255 * 0.8
    return colors


def _on_blend(shown: np.ndarray, color: np.ndarray, behind: np.ndarray, cfg: CheckerConfig) -> bool:
    """``shown`` lies near the segment from ``behind`` to ``color`` (a blurred or fading object)."""
    d = color.astype(np.float32) - behind
    a = float(np.clip(np.dot(shown - behind, d) / max(1e-6, float(np.dot(d, d))), 0, 1))
    return bool(_dist(shown, behind + a * d) < cfg.pixel_tol / 2)


def _classify(
    v: np.ndarray,
    r: np.ndarray,
    seg: np.ndarray,
    diff: np.ndarray,
    oid: int,
    color: np.ndarray,
    cfg: CheckerConfig,
    colors: dict[int, np.ndarray],
    names: list[str],
) -> _Frame:
    m = seg == oid
    a = int(m.sum())
    if a < cfg.min_area:
        return _Frame(_HIDDEN)
    ref_c = _centroid(m)
    if not diff[_dilate(m, 1)].any():  # the video agrees around the object: nothing to explain
        return _Frame(_OK, centroid=ref_c, ref_centroid=ref_c)
    has_col = _dist(v, color) < cfg.color_tol
    near = _dilate(m, 3)
    c_near = has_col & near
    miss = float(diff[m].mean())
    shape_diff = float(diff[_dilate(m, 1)].sum()) / a
    if miss < cfg.mismatch and shape_diff < cfg.shape_mismatch:
        # in place and in shape; a subtle recolouring stays under the per-pixel tolerance, so
        # compare the medians of its inner pixels (robust to edges and codec noise)
        inner = ndimage.binary_erosion(m)
        inner = inner if inner.sum() >= cfg.min_area else m
        was, now = np.median(r[inner], axis=0), np.median(v[inner], axis=0)
        ring = _dilate(m, 2) & ~m & (seg != oid)
        behind = np.median(r[ring], axis=0) if ring.any() else was
        if _dist(was, now) > cfg.recolor_tol and not _on_blend(now, was, behind, cfg):
            return _Frame(
                "change_color",
                f"colour rgb {tuple(int(x) for x in was)} became rgb {tuple(int(x) for x in now)}",
                _bbox(m),
                ref_c,
                ref_c,
            )
        return _Frame(
            _OK, centroid=_centroid(c_near) if c_near.any() else ref_c, ref_centroid=ref_c
        )
    n_near = int(c_near.sum())
    missing = m & diff & ~has_col
    if missing.sum() >= 2 and n_near < 0.9 * a:
        # where it should be, the video shows the body it touches: it went into that body
        shown = np.median(v[missing], axis=0)
        touching = np.unique(seg[_dilate(m, 2) & ~m])
        for k in touching[(touching > 0) & (touching != oid)]:
            if _dist(shown, colors[int(k)]) < cfg.color_tol:
                return _Frame(
                    "sink",
                    f"{int(missing.sum())} of its {a} labelled px show {names[int(k) - 1]} "
                    "instead: it is inside that body",
                    _bbox(m),
                    _centroid(c_near) if n_near else None,
                    ref_c,
                )
    if n_near >= 0.4 * a:
        c = _centroid(c_near)
        shift = c - ref_c
        bb, rb = _bbox(c_near), _bbox(m)
        ratio = n_near / a
        if shift[1] >= cfg.sink_px and bb[3] <= rb[3] and ratio < 0.9:
            return _Frame(
                "sink",
                f"{shift[1]:.1f} px lower than labelled, bottom cut off ({ratio:.0%} of its area)",
                bb,
                c,
                ref_c,
            )
        if np.hypot(*shift) >= cfg.teleport_px and 0.5 <= ratio <= 2.0:
            return _Frame(
                "teleport", f"displaced by ({shift[0]:+.1f}, {shift[1]:+.1f}) px", bb, c, ref_c
            )
        return _Frame(
            "change_size",
            f"{n_near} px of its colour where {a} are labelled; {shape_diff:.0%} of the pixels "
            "around it differ",
            bb,
            c,
            ref_c,
        )
    # its colour is (mostly) gone from its labelled place: moved, recoloured or gone
    was_col = _dist(r, color) < cfg.color_tol
    moved = has_col & ~was_col & ~_dilate(seg > 0, 2)
    comp = _largest(moved, max(cfg.min_area, int(0.3 * a)))
    if comp is not None:
        c = _centroid(comp)
        shift = c - ref_c
        return _Frame(
            "teleport",
            f"found ({shift[0]:+.1f}, {shift[1]:+.1f}) px away from its labelled place",
            _bbox(comp),
            c,
            ref_c,
        )
    shown = np.median(v[m], axis=0)
    ring = _dilate(m, 2) & ~m
    ring &= seg != oid
    behind = np.median(r[ring], axis=0) if ring.any() else shown
    # a blend of its colour and the background is a fading object (a blurry prediction losing
    # it), not a new colour: mostly background counts as gone, mostly its colour as still there
    seg_dir = color.astype(np.float32) - behind
    alpha = float(
        np.clip(np.dot(shown - behind, seg_dir) / max(1e-6, np.dot(seg_dir, seg_dir)), 0, 1)
    )
    on_blend = _dist(shown, behind + alpha * seg_dir) < cfg.pixel_tol / 2
    if on_blend and alpha >= 0.5:
        return _Frame(_OK, centroid=ref_c, ref_centroid=ref_c)
    if _dist(shown, behind) < cfg.pixel_tol or on_blend:
        return _Frame(
            "vanish",
            f"labelled {a} px in view, the video shows the background there "
            f"(rgb {tuple(int(x) for x in shown)})",
            _bbox(m),
            None,
            ref_c,
        )
    return _Frame(
        "change_color",
        f"colour rgb {tuple(int(x) for x in color)} became rgb {tuple(int(x) for x in shown)}",
        _bbox(m),
        _centroid(m),
        ref_c,
    )


def _runs(states: list[str], persist: int) -> list[tuple[int, int, int]]:
    """Runs of non-ok checked frames: (first ok-less frame after last ok, onset, end)."""
    out = []
    last_ok = -1
    t = 0
    n = len(states)
    while t < n:
        s = states[t]
        if s == _OK:
            last_ok = t
            t += 1
            continue
        if s == _HIDDEN:
            t += 1
            continue
        onset, end, count = t, t, 0
        u = t
        while u < n and states[u] != _OK:
            if states[u] != _HIDDEN:
                end = u
                count += 1
            u += 1
        if count >= persist:
            out.append((last_ok + 1, onset, end))
        t = u
    return out


def _speed_findings(
    name: str, frames: list[_Frame], cfg: CheckerConfig, offset: int
) -> list[Finding]:
    """Energy gain: faster than the labelled motion for ``persist + 1`` frames."""
    out, run = [], []
    for t in range(1, len(frames)):
        a, b = frames[t - 1], frames[t]
        fast = False
        if a.state == b.state == _OK and a.centroid is not None and b.centroid is not None:
            v = float(np.hypot(*(b.centroid - a.centroid)))
            vr = float(np.hypot(*(b.ref_centroid - a.ref_centroid)))
            fast = v > 1.5 * vr + cfg.speed_px
            if fast:
                run.append((t, v, vr))
        if not fast and run:
            if len(run) >= cfg.persist + 1:
                t0, t1 = run[0][0], run[-1][0]
                v = max(x[1] for x in run)
                vr = max(x[2] for x in run)
                out.append(
                    Finding(
                        "energy_gain",
                        name,
                        t0 + offset - 1,
                        t0 + offset,
                        t1 + offset,
                        f"moves up to {v:.1f} px/frame where the labels move {vr:.1f}",
                        (-1, -1, -1, -1),
                    )
                )
            run = []
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


def _appear_findings(
    unexplained: list[list[tuple[np.ndarray, np.ndarray]]],
    diffs: list[np.ndarray],
    per_obj: dict[str, list[_Frame]],
    seg: np.ndarray,
    colors: dict[int, np.ndarray],
    cfg: CheckerConfig,
    offset: int,
) -> list[Finding]:
    """Track unexplained blobs over frames; those that persist are objects from nowhere."""
    names = list(per_obj)
    tracks: list[dict[str, Any]] = []  # open tracks: last mask, frames seen
    done: list[dict[str, Any]] = []
    for t, comps in enumerate(unexplained):
        # blobs that are a known object's displaced self (teleport / moved) are not new objects
        keep = []
        for comp, col in comps:
            explained = False
            for i, n in enumerate(names):
                st = per_obj[n][t]
                if st.state in ("teleport", "change_size", "sink") and st.bbox[0] >= 0:
                    x0, y0, x1, y1 = st.bbox
                    box = np.zeros_like(comp)
                    box[max(0, y0 - 1) : y1 + 1, max(0, x0 - 1) : x1 + 1] = True
                    if (comp & box).any() and _dist(col, colors[i + 1]) < cfg.color_tol:
                        explained = True
            if not explained:
                keep.append(comp)
        still = []
        for tr in tracks:
            match = next((c for c in keep if (_dilate(tr["mask"], 2) & c).any()), None)
            if match is not None:
                keep = [c for c in keep if c is not match]
                tr["mask"], tr["end"], tr["n"] = match, t, tr["n"] + 1
                still.append(tr)
            elif t - tr["end"] > 1:
                done.append(tr)
            else:
                still.append(tr)
        for c in keep:
            still.append({"mask": c, "first": c, "onset": t, "end": t, "n": 1})
        tracks = still
    done.extend(tracks)
    out = []
    for k, tr in enumerate(x for x in done if x["n"] >= cfg.persist):
        first, onset = tr["first"], tr["onset"]
        start = onset
        # walk back while that spot was (partly) covered in the labels, e.g. behind an occluder,
        # or already differed a little: it was last seen clear before that
        while start > 0 and (
            (seg[start - 1][first] > 0).mean() >= 0.2 or diffs[start - 1][first].any()
        ):
            start -= 1
        area = int(first.sum())
        ev = f"{area} px the labels do not explain (they show background there)"
        if 0 < start < onset:
            ev += (
                f"; the spot was hidden or already differing from frame {start + offset}, "
                f"last seen matching the labels at frame {start + offset - 1}"
            )
        elif start == 0 < onset:
            ev += "; the spot differs from the labels from the first checked frame on"
        out.append(
            Finding(
                "appear",
                f"unknown-{k + 1}",
                start + offset,
                onset + offset,
                tr["end"] + offset,
                ev,
                _bbox(first),
            )
        )
    return out
