"""``ask``: a worded request or question -> a validated scene, a rollout and an answer in numbers.

The offline planner (default) parses the text with the grammar in :mod:`twinsim.bridge.grammar`,
builds the scene with :mod:`twinsim.bridge.planner`, renders it with the engine and reads the
answer's numbers from the engine's labels (contacts and object tracks). ``what happens next in
VIDEO`` runs the neural model on the clip instead. ``llm="openai"`` hands the same request to a
language model that drives the tool catalogue (:mod:`twinsim.bridge.llm_openai`).
"""

from __future__ import annotations

import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from twinsim.bridge.ask_describe import describe_rollout
from twinsim.bridge.grammar import PlannerError, Question, Request, parse
from twinsim.bridge.planner import SceneLimits, plan_scene
from twinsim.sim import SceneSpec

__all__ = ["BACKENDS", "Answer", "answer_request", "ask", "describe_rollout"]

BACKENDS = ("auto", "engine", "neural")
_VIDEO_CONTEXT = 16  # frames of a clip the model continues from (its memory scans them all)
_LABELS = ("rgb", "segmentation", "objects", "camera", "contacts")


@dataclass
class Answer:
    """The reply to :func:`ask`.

    Attributes:
        text: the answer in words, its numbers read from the engine's labels.
        spec: the validated scene that was rendered (None for a video question).
        files: what was written: ``video`` (mp4), ``labels`` (labels.json), ``arrays``
            (arrays.npz), ``spec`` (spec.json), ``answer`` (answer.json), ...
        evidence: the frames, times and values behind each number.
        backend: ``"engine"`` or ``"neural"``; ``reason``: why that backend.
        planner: ``"offline grammar"`` or ``"openai:MODEL"``.
    """

    text: str
    spec: SceneSpec | None
    files: dict[str, Path]
    evidence: dict[str, Any]
    backend: str
    reason: str
    planner: str
    request: str
    seconds: float = 0.0
    tool_calls: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (paths as strings, the spec as its JSON dict)."""
        return {
            "request": self.request,
            "text": self.text,
            "backend": self.backend,
            "reason": self.reason,
            "planner": self.planner,
            "seconds": round(self.seconds, 3),
            "files": {k: str(v) for k, v in self.files.items()},
            "evidence": self.evidence,
            "spec": None if self.spec is None else self.spec.to_dict(),
            "tool_calls": self.tool_calls,
        }


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:48] or "ask"


def _write_json(path: Path, data: Any) -> Path:
    from twinsim.sim.fileio import write_json

    return write_json(path, data, indent=2)


def _out_dir(out: str | Path | None, text: str) -> Path:
    if out is None:
        return Path(tempfile.mkdtemp(prefix=f"twinsim-ask-{_slug(text)[:24]}-"))
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"output path {str(path)!r} exists and is not a folder")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _next_in_video(q: Question, out: Path, horizon_limit: int) -> Answer:
    """'what happens next in VIDEO, N frames': the neural model predicts N frames."""
    from twinsim.bridge import RolloutResult, load_scene_or_frames, rollout

    path = Path(q.video or "")
    if not path.is_file():
        raise FileNotFoundError(f"video {str(path)!r} does not exist")
    horizon = q.frames or 16
    if not 1 <= horizon <= horizon_limit:
        raise PlannerError(f"frames must lie in [1, {horizon_limit}], got {horizon}", [])
    t0 = time.perf_counter()
    frames = load_scene_or_frames(path)  # the first 256 frames at most
    res = rollout(frames[-_VIDEO_CONTEXT:], horizon, backend="neural")
    context = res.context if res.context is not None else res.frames[:0]
    pred = res.frames
    video = res.save_video(out / "prediction.mp4")
    last = context[-1:] if len(context) and context.shape[1:] == pred.shape[1:] else pred[:1]
    change = np.abs(np.diff(np.concatenate([last, pred]).astype(np.int16), axis=0))
    per_frame = change.mean(axis=(1, 2, 3))
    moving = (change.max(axis=3) > 24).any(axis=0)
    ys, xs = np.nonzero(moving)
    ev: dict[str, Any] = {
        "video": str(path),
        "context_frames": len(context),
        "horizon": horizon,
        "resolution": int(pred.shape[1]),
        "model": res.extra.get("model"),
        "mean_change_per_frame": [round(float(v), 2) for v in per_frame],
        "moving_pixel_fraction": round(float(moving.mean()), 4),
        "cost": res.cost.to_dict(),
    }
    if len(xs):
        ev["moving_region_px"] = [
            int(xs.min()),
            int(ys.min()),
            int(xs.max()) + 1,
            int(ys.max()) + 1,
        ]
    calm = per_frame.mean() < 1.0
    text = (
        f"The neural model ({pred.shape[1]} px) predicts {horizon} frames after the last of "
        f"{len(context)} frames of {path.name}: "
        + (
            "little changes (under 1 grey level per frame on average): it expects the scene "
            "to stay as it is."
            if calm
            else f"the picture keeps changing ({per_frame[0]:.1f} grey levels of mean change in "
            f"the first predicted frame, {per_frame[-1]:.1f} in the last), over "
            f"{ev['moving_pixel_fraction'] * 100:.0f}% of the image."
        )
        + " This is a guess from pixels, not physics: real footage has no engine labels to "
        "check it against."
    )
    assert isinstance(res, RolloutResult)
    files = {"video": video}
    answer = Answer(
        text, None, files, ev, "neural", res.reason, "offline grammar", q.video or "",
        time.perf_counter() - t0,
    )  # fmt: skip
    files["answer"] = _write_json(out / "answer.json", answer.to_dict())
    return answer


def answer_request(
    request: Request,
    out: Path,
    backend: str = "auto",
    limits: SceneLimits | None = None,
    horizon_limit: int = 64,
) -> Answer:
    """Build, render and answer one parsed request into the folder ``out``."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; valid backends: {', '.join(BACKENDS)}")
    q = request.question
    if q is not None and q.kind == "next":
        if backend == "engine":
            raise ValueError(
                "the engine cannot continue a video (it has no scene spec); use backend='neural' or 'auto'"
            )
        answer = _next_in_video(q, out, horizon_limit)
        answer.request = request.text
        return answer
    if backend == "neural":
        raise ValueError(
            "answers in numbers need the engine's labels: use backend='engine' or 'auto' "
            "(the neural backend answers 'what happens next in VIDEO')"
        )
    from twinsim.sim import simulate

    t0 = time.perf_counter()
    plan = plan_scene(request, limits)
    rollout = simulate(plan.spec, labels=list(_LABELS))
    text, ev = describe_rollout(rollout, plan, q)
    seconds = time.perf_counter() - t0
    ev["engine_seconds"] = round(seconds, 3)
    rollout.save(out)
    files = {
        "video": out / "preview.mp4",
        "labels": out / "labels.json",
        "arrays": out / "arrays.npz",
        "spec": _write_json(out / "spec.json", plan.spec.to_dict()),
    }
    reason = "answers in numbers are read from the engine's labels (contacts and object tracks)"
    answer = Answer(
        text, plan.spec, files, ev, "engine", reason, "offline grammar", request.text, seconds
    )
    files["answer"] = _write_json(out / "answer.json", answer.to_dict())
    return answer


def ask(
    text: str,
    *,
    out: str | Path | None = None,
    backend: str = "auto",
    size: int = 128,
    llm: str | None = None,
    model: str | None = None,
    base_url: str | None = None,
) -> Answer:
    """Answer a worded request or question with a rendered, labelled rollout.

    Args:
        text: e.g. ``"drop a red ball from 2 m onto a blue box"``, ``"will this tower of 5 boxes
            fall?"``, ``"what happens next in clip.mp4, 16 frames"``. See docs/bridge-planner.md.
        out: folder for the video, labels, spec and answer.json (None: a new temporary folder).
        backend: ``"auto"`` (engine for scenes, neural for videos), ``"engine"`` or ``"neural"``.
        size: frame side in pixels for built scenes.
        llm: None (the offline grammar planner) or ``"openai"`` (a language model drives the
            tool catalogue through an OpenAI-compatible server; ``model``, ``base_url``).

    Raises:
        PlannerError: the offline planner cannot parse or build the request; the message says
            what it recognised and the forms it accepts.
    """
    if llm is not None:
        if llm != "openai":
            raise ValueError(f"unknown llm {llm!r}; valid: openai")
        from twinsim.bridge.llm_openai import ask_openai

        return ask_openai(text, out=out, model=model, base_url=base_url, size=size)
    request = parse(text)
    return answer_request(request, _out_dir(out, text), backend, SceneLimits(size=size))
