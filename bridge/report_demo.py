"""``twinsim demo``: worded requests -> engine render -> neural prediction -> compare -> one HTML page.

Runs on embedded defaults only: the offline planner (``twinsim.bridge.ask_api``, when installed;
otherwise fixed scenes from the families), the bundled model, no network. Per request it writes
the planner's files, compare's JSON, side-by-side video and error plot, and one section of
``index.html``; a last section audits the engine's own impossible twin (an object that vanishes
behind an occluder) with the checker, to show what a finding looks like.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from twinsim.bridge.report import ReportSection, write_html_report

__all__ = ["DEFAULT_REQUESTS", "DemoResult", "run_demo"]

# Worded requests the offline planner answers; each has a fallback scene (family, seed) used
# when the planner is not installed or refuses the request.
DEFAULT_REQUESTS: tuple[tuple[str, str, int], ...] = (
    ("drop a red ball from 1 m onto a blue box", "drop", 1),
    ("roll a blue ball at 2 m/s into a red box", "collide", 2),
    ("the occlusion scene seed 4", "occlusion", 4),
    ("will a tower of 4 boxes fall?", "tower", 1),
)
_TWIN = ("occlusion", 3, "vanish")  # the impossible twin audited by the last section


def _motion_start(spec, context: int, horizon: int) -> int:
    """The first context window whose frames all show motion (it starts where the scene first
    changes).

    From a still context every predictor (the model, copy-last) can only return the still frame,
    so the demo shows the model from where the scene's motion begins (an occluder entering from
    the side, a push) rather than from frame 0.
    """
    from twinsim.sim import simulate

    rgb = simulate(spec, labels=["rgb"]).rgb
    moving = (rgb[1:] != rgb[:-1]).any(axis=(1, 2, 3))
    first = int(moving.argmax()) + 1 if moving.any() else 0  # first frame that differs
    return max(0, min(first, len(rgb) - context - horizon))


@dataclass
class DemoResult:
    """Where the report is, and what it holds."""

    report: Path
    sections: list[ReportSection]
    seconds: float


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "request"


def _ask(text: str, out: Path, size: int):
    """The planner's Answer, or None when ``ask`` is not installed or refuses the text."""
    try:
        from twinsim.bridge.ask_api import ask
    except ImportError:
        return None, "offline planner not installed: a fixed scene of the same family is used"
    try:
        return ask(text, out=out, size=size, backend="engine"), ""
    except Exception as exc:  # the planner refuses: show why, fall back to a family scene
        return None, f"planner: {exc}".splitlines()[0]


def _facts(rep) -> dict[str, str]:
    return {
        "engine": rep.engine.summary(),
        "neural": rep.neural.summary(),
        "PSNR (dB), mean over steps": (
            f"neural {rep.psnr.mean():.1f}, copy-last {rep.copy_last_psnr.mean():.1f} "
            f"(step 1: {rep.psnr[0]:.1f} vs {rep.copy_last_psnr[0]:.1f})"
        ),
    }


def run_demo(
    out: str | Path = "demo",
    *,
    requests: Sequence[str] | None = None,
    horizon: int = 16,
    model: str = "cpu",
    log: Callable[[str], None] = print,
) -> DemoResult:
    """Answer worded requests, compare engine and model on each, audit an impossible twin, and
    write ``OUT/index.html``.

    Args:
        out: output folder (created; files in it are replaced atomically).
        requests: worded requests (default :data:`DEFAULT_REQUESTS`).
        horizon: frames the model predicts after its context.
        model: bundled model name.
        log: progress lines go here.
    """
    from twinsim.bridge.checker import check_physics
    from twinsim.bridge.compare_api import compare
    from twinsim.bridge.compare_video import side_by_side, write_video
    from twinsim.neural import load_pretrained
    from twinsim.sim import sample_scene, simulate
    from twinsim.sim.fileio import prepare_output_dir

    t0 = time.perf_counter()
    root = prepare_output_dir(out)
    wm = load_pretrained(model)
    size = wm.resolution
    fallback = {r[0]: (r[1], r[2]) for r in DEFAULT_REQUESTS}
    todo = list(requests) if requests is not None else [r[0] for r in DEFAULT_REQUESTS]
    sections = []
    for i, text in enumerate(todo, 1):
        folder = root / f"{i:02d}-{_slug(text)}"
        answer, note = _ask(text, folder / "answer", size)
        if answer is not None and answer.spec is not None:
            spec, words = answer.spec, answer.text
        else:
            fam, seed = fallback.get(text, (DEFAULT_REQUESTS[(i - 1) % len(DEFAULT_REQUESTS)][1:]))
            spec = sample_scene(fam, seed)
            words = f"({note}) engine scene: family {fam!r}, seed {seed}."
        cam = spec.cameras[0]
        if (cam.width, cam.height) != (size, size):
            import dataclasses

            spec = dataclasses.replace(
                spec, cameras=(dataclasses.replace(cam, width=size, height=size), *spec.cameras[1:])
            )
        log(f"[{i}/{len(todo)}] {text}")
        start = _motion_start(spec, wm.context, horizon)
        rep = compare(spec, horizon, start=start, model=wm, out=folder / "compare")
        log("    " + rep.summary().replace("\n", "\n    "))
        sections.append(
            ReportSection(
                title=text,
                answer=words,
                videos={
                    "engine | neural | difference (findings boxed in red)": (
                        rep.files["video_webm"],
                        rep.files["video_mp4"],
                    )
                },
                images={"per-step error against the engine": rep.files["error_plot"]},
                findings=rep.findings,
                facts=_facts(rep),
            )
        )
    # the checker on the engine's own impossible twin
    fam, seed, kind = _TWIN
    imp = sample_scene(fam, seed, impossible=kind)
    labels = ["rgb", "segmentation", "objects", "visibility"]
    possible = simulate(imp.possible_twin(), labels=labels)
    bad = simulate(imp, labels=labels)
    check = check_physics(bad.rgb, possible)
    folder = prepare_output_dir(root / f"{len(todo) + 1:02d}-impossible-twin")
    video = side_by_side(possible.rgb, bad.rgb, check.findings, start_frame=0)
    files = (
        str(write_video(video, folder / "twin.webm", imp.world.fps)),
        str(write_video(video, folder / "twin.mp4", imp.world.fps)),
    )
    v = imp.violation
    log(f"[twin] {fam} seed {seed}, {kind} at frame {v.frame}: {check.summary()}")
    sections.append(
        ReportSection(
            title=f"Is this clip physically possible? ({fam} seed {seed}, the engine's {kind} twin)",
            answer=(
                f"No. {check.summary()} (the twin was scripted to {kind} {v.body!r} at frame "
                f"{v.frame}, while hidden: the checker brackets it between the last frame it was "
                "seen and the first frame it should have been visible again)."
                if check.findings
                else "The checker found nothing."
            ),
            videos={"possible | impossible | difference (findings boxed in red)": files},
            findings=check.findings,
        )
    )
    seconds = time.perf_counter() - t0
    report = write_html_report(
        root / "index.html",
        sections,
        title="twinsim demo: engine vs neural, checked",
        intro=(
            f"Worded requests rendered by the physics engine, predicted by the bundled neural "
            f"model {model!r} from the engine's first {wm.context} frames ({horizon} frames "
            f"ahead), and the prediction checked against the engine's labels. "
            f"Made in {seconds:.0f} s, offline."
        ),
    )
    return DemoResult(report, sections, seconds)
