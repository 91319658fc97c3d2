"""An engine rollout of a planned scene, told in words with the numbers read from its labels."""

from __future__ import annotations

from typing import Any

import numpy as np
from twinsim.bridge.ask_events import bounce, first_contact, rest_frame, tower_fall
from twinsim.bridge.grammar import ObjectPhrase, PlannerError, Question
from twinsim.bridge.planner import Plan
from twinsim.sim import Rollout


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
