"""The checker's vocabulary: violation kinds, thresholds, findings and the report."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["KINDS", "CheckReport", "CheckerConfig", "Finding"]

KINDS: tuple[str, ...] = (
    "vanish",
    "appear",
    "teleport",
    "change_color",
    "change_size",
    "sink",
    "energy_gain",
)


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
