"""Per-frame states over time -> findings: persistent runs, energy gain, blobs from nowhere."""

from __future__ import annotations

from typing import Any

import numpy as np
from twinsim.bridge.checker_frames import _HIDDEN, _OK, _bbox, _dilate, _dist, _Frame
from twinsim.bridge.checker_report import CheckerConfig, Finding


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
