"""``ask``: a worded request or question -> a validated scene, a rollout and an answer in numbers.

The offline planner (default) parses the text with the grammar in :mod:`twinsim.bridge.grammar`,
builds the scene with :mod:`twinsim.bridge.planner`, renders it with the engine and reads the
answer's numbers from the engine's labels (contacts and object tracks). ``what happens next in
VIDEO`` runs the neural model on the clip instead. ``llm="openai"`` hands the same request to a
language model that drives the tool catalogue (:mod:`twinsim.bridge.llm_openai`).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from twinsim.bridge.ask_events import bounce, first_contact, rest_frame, tower_fall
from twinsim.bridge.grammar import ObjectPhrase, PlannerError, Question, Request, parse
from twinsim.bridge.planner import Plan, SceneLimits, plan_scene
from twinsim.sim import Rollout, SceneSpec

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
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def _out_dir(out: str | Path | None, text: str) -> Path:
    if out is None:
        return Path(tempfile.mkdtemp(prefix=f"twinsim-ask-{_slug(text)[:24]}-"))
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"output path {str(path)!r} exists and is not a folder")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _m(v: float) -> str:
    return f"{v:.2f} m"


def _s(v: float) -> str:
    return f"{v:.2f} s"


def _resolve(plan: Plan, phrase: ObjectPhrase | None) -> str:
    """The spec object a phrase ("the red ball", None = it) refers to."""
    if phrase is None:
        if plan.main is None:
            raise PlannerError("'it' refers to no object in this scene", [])
        return plan.main
    names = plan.spec.names
    for name in names:
        words = name.split("_")
        if phrase.color and phrase.color not in words:
            continue
        if any(w.rstrip("0123456789") == phrase.word for w in words):
            return name
    for name in names:  # same shape, any wording ("the sphere" for a ball)
        if plan.spec.object(name).shape == phrase.shape and (
            phrase.color is None or phrase.color in name
        ):
            return name
    raise PlannerError(
        f"there is no {phrase.describe()} in this scene; its objects are {', '.join(names)}", []
    )


def _where(pos: np.ndarray | tuple[float, ...]) -> str:
    return f"x = {pos[0]:+.2f} m, y = {pos[1]:+.2f} m"


def _rest_text(rollout: Rollout, name: str, ev: dict) -> str:
    rest = rest_frame(rollout, name)
    pos = rollout.track(name).position
    ev["rest"] = {
        "frame": rest,
        "time_s": None if rest is None else round(float(rollout.times[rest]), 3),
        "position_m": [round(float(v), 3) for v in pos[-1]],
    }
    if rest is None:
        return (
            f"it is still moving when the clip ends at {_s(rollout.times[-1])} ({_where(pos[-1])})"
        )
    return f"it comes to rest at {_s(rollout.times[rest])} at {_where(pos[-1])}"


def _hit_text(rollout: Rollout, a: str, b: str | None, ev: dict, key: str = "first_contact") -> str:
    c = first_contact(rollout, a, b)
    if c is None:
        ev[key] = None
        return f"the {a.replace('_', ' ')} never touches {'anything' if b is None else 'the ' + b.replace('_', ' ')}"
    ev[key] = c.to_dict()
    what = "the floor" if c.b == "floor" else f"the {c.b.replace('_', ' ')}"
    return f"the {a.replace('_', ' ')} first touches {what} at {_s(c.time)} (frame {c.frame})"


def _bounce_text(rollout: Rollout, name: str, ev: dict) -> str:
    c = first_contact(rollout, name)
    if c is None:
        ev["bounce"] = None
        return "it never lands, so it cannot bounce"
    b = bounce(rollout, name, c.frame)
    ev["bounce"] = None if b is None else b.to_dict()
    if b is None:
        return "it does not bounce: it stays in contact after landing"
    return (
        f"it bounces {_m(b.rise)} back up (its centre peaks at {_m(b.apex_height)} above the "
        f"floor at {_s(rollout.times[b.apex_frame])})"
    )


def describe_rollout(
    rollout: Rollout, plan: Plan, question: Question | None = None
) -> tuple[str, dict]:
    """Answer ``question`` (None: say what happened) from an engine rollout with contacts.

    Returns:
        (text, evidence): the answer in words and the frames/values behind its numbers.
    """
    ev: dict[str, Any] = {"frames": rollout.num_frames, "fps": rollout.spec.world.fps}
    kind = question.kind if question else "happen"
    if plan.kind == "tower" or kind == "fall":
        names = [o.name for o in plan.spec.objects]
        fall = tower_fall(rollout, names)
        ev["tower"] = fall
        n = len(names)
        if fall["fell"]:
            text = (
                f"Yes: the tower of {n} falls. Its top block drops {_m(fall['top_drop_m'])} "
                f"(from {_m(fall['top_start_height_m'])} to {_m(fall['top_end_height_m'])}); "
                f"{fall['blocks_moved_over_1cm']} of {n} blocks move more than 1 cm, the first "
                f"at {_s(fall['first_motion_time_s'])}."
            )
        else:
            text = (
                f"No: the tower of {n} stands. Its top block ends {_m(fall['top_end_height_m'])} "
                f"high (moved {fall['largest_displacement_m'] * 100:.1f} cm at most) after "
                f"{_s(rollout.times[-1])}."
            )
        return text, ev
    main = _resolve(plan, question.subject if question else None)
    if kind == "hit":
        target = question.target if question else None
        b = "floor" if target == "floor" else _resolve(plan, target) if target else None
        return _hit_text(rollout, main, b, ev).capitalize() + ".", ev
    if kind == "bounce":
        return (_bounce_text(rollout, main, ev) + ".").capitalize(), ev
    if kind in ("land", "rest", "distance"):
        pos = rollout.track(main).position
        land = (
            first_contact(rollout, main, "floor")
            if plan.kind == "throw"
            else first_contact(rollout, main)
        )
        parts = []
        if land is not None and kind == "land":
            ev["landing"] = land.to_dict()
            what = "the floor" if land.b == "floor" else f"the {land.b.replace('_', ' ')}"
            parts.append(
                f"the {main.replace('_', ' ')} lands on {what} at {_where(land.position)} "
                f"at {_s(land.time)}, {abs(land.position[0] - pos[0, 0]):.2f} m from where it started"
            )
        dist = float(np.linalg.norm(pos[-1, :2] - pos[0, :2]))
        ev["distance_m"] = round(dist, 3)
        if kind == "distance":
            parts.append(f"the {main.replace('_', ' ')} ends {dist:.2f} m from where it started")
        parts.append(_rest_text(rollout, main, ev))
        return "; ".join(parts).capitalize() + ".", ev
    # "what happens": a summary for the kind of scene
    parts = []
    if plan.kind == "drop":
        parts.append(_hit_text(rollout, main, plan.target, ev))
        parts.append(_bounce_text(rollout, main, ev))
        if plan.target:
            z_end = rollout.track(main).position[-1, 2]
            top = plan.spec.object(plan.target)
            on_top = z_end > 2 * (top.size[2] if top.shape == "box" else top.size[-1])
            ev["ends_on_target"] = bool(on_top)
            parts.append(
                f"it ends {'on top of' if on_top else 'off'} the {plan.target.replace('_', ' ')}"
            )
        parts.append(_rest_text(rollout, main, ev))
    elif plan.kind in ("roll", "push", "throw"):
        if plan.kind == "throw":
            pos = rollout.track(main).position
            apex = int(np.argmax(pos[:, 2]))
            ev["apex"] = {"frame": apex, "centre_height_m": round(float(pos[apex, 2]), 3)}
            parts.append(
                f"the {main.replace('_', ' ')} rises to {_m(pos[apex, 2])} at {_s(rollout.times[apex])}"
            )
            parts.append(_hit_text(rollout, main, "floor", ev, "landing"))
        if plan.target:
            parts.append(_hit_text(rollout, main, plan.target, ev))
            tpos = rollout.track(plan.target).position
            moved = float(np.linalg.norm(tpos[-1] - tpos[0]))
            ev["target_moved_m"] = round(moved, 3)
            parts.append(f"the {plan.target.replace('_', ' ')} is pushed {moved:.2f} m")
        if plan.kind == "push":
            pos = rollout.track(main).position
            moved = float(np.linalg.norm(pos[-1, :2] - pos[0, :2]))
            ev["distance_m"] = round(moved, 3)
            parts.append(f"the {main.replace('_', ' ')} slides {moved:.2f} m")
        parts.append(_rest_text(rollout, main, ev))
    else:  # a family scene: how far each dynamic body travels and where it ends
        spec = plan.spec
        moving = [o for o in spec.objects if o.mass > 0 and not o.kinematic][:4]
        for obj in moving:
            pos = rollout.track(obj.name).position
            moved = float(np.linalg.norm(pos[-1] - pos[0]))
            ev[f"moved_m:{obj.name}"] = round(moved, 3)
            parts.append(
                f"the {obj.name.replace('_', ' ')} travels {moved:.2f} m and ends at {_where(pos[-1])}"
            )
        if spec.violation is not None:
            v = spec.violation
            ev["violation"] = {"kind": v.kind, "body": v.body, "frame": v.frame}
            parts.append(
                f"this is an impossible twin: the {v.body.replace('_', ' ')} breaks physics "
                f"({v.kind}) at frame {v.frame} ({_s(v.frame / spec.world.fps)})"
            )
    return "; ".join(parts).capitalize() + ".", ev


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
