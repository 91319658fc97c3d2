"""twinsim.bridge: one API over the engine and the neural model, and the physics checker.

Public API::

    rollout(scene_or_frames, horizon, backend="engine"|"neural"|"hybrid"|"auto", actions=None)
        -> RolloutResult (frames, labels, backend, reason, cost)
    compare(scene, horizon, context=K) -> CompareReport (per-frame error, findings, video, JSON)
    check_physics(frames, labels) -> CheckReport (findings: object, frame range, evidence)
    write_html_report(...)  # the demo's single HTML page
    ask(text, *, out=None) -> Answer   # worded requests (twinsim.bridge.ask_api, when installed)

The modules are ``rollout_api``, ``compare_api``, ``ask_api``, ``hindcast_check``, ``checker``,
``report`` (not ``rollout``, ``compare``, ``ask`` or ``hindcast``: once imported, a submodule
of the same name would shadow the function on the package; ``tests/test_layout.py`` checks).
Names are imported on first use, so ``import twinsim.bridge`` loads neither torch nor pybullet,
and a front end that is not installed does not break the others.
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> module (relative to twinsim.bridge) that defines it
_LAZY: dict[str, str] = {
    "rollout": "rollout_api",
    "RolloutResult": "rollout_api",
    "Cost": "rollout_api",
    "BACKENDS": "rollout_api",
    "choose_backend": "rollout_api",
    "hybrid_available": "rollout_api",
    "hindcast": "hindcast_check",
    "Hindcast": "hindcast_check",
    "load_scene_or_frames": "rollout_api",
    "check_physics": "checker",
    "CheckReport": "checker",
    "CheckerConfig": "checker",
    "Finding": "checker",
    "KINDS": "checker",
    "compare": "compare_api",
    "CompareReport": "compare_api",
    "write_html_report": "report",
    # the planner's front end (worded requests); absent until installed
    "ask": "ask_api",
    "Answer": "ask_api",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'twinsim.bridge' has no attribute {name!r}")
    try:
        mod = importlib.import_module(f"twinsim.bridge.{module}")
    except ModuleNotFoundError as exc:
        if exc.name != f"twinsim.bridge.{module}":
            raise
        raise AttributeError(
            f"twinsim.bridge.{name} is not available: module twinsim.bridge.{module} is not installed"
        ) from None
    value = getattr(mod, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
