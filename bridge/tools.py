"""One catalogue of tools for language planners, shared by every front end (MCP, OpenAI, Python).

Each tool is a typed Python function; its JSON Schema is generated from the signature with
pydantic, and the same model validates every call. Per-call :class:`Limits` cap frames,
resolution, horizon, object count and wall time. Results are small JSON dicts; files go into a
:class:`~twinsim.bridge.tools_workspace.Workspace` folder and are returned as paths relative to
it. No tool evaluates code, and no path may leave the workspace.

    cat = Catalogue("ws")
    cat.call("simulate", {"family": "drop", "seed": 1, "frames": 24})
    cat.schemas()          # [{"name", "description", "input_schema"}, ...]
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args, get_origin, get_type_hints

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from twinsim.bridge.tools_workspace import Workspace, WorkspaceError

__all__ = ["Cap", "Catalogue", "Limits", "Tool", "ToolError"]

Label = Literal[
    "rgb", "depth", "segmentation", "objects", "camera", "contacts", "flow", "visibility"
]
_DEFAULT_LABELS: tuple[str, ...] = ("rgb", "segmentation", "objects", "camera", "contacts")


class ToolError(Exception):
    """A tool call that failed for a reason the caller can fix; the message says how."""


@dataclass(frozen=True)
class Limits:
    """Per-call limits every tool enforces (a request over a limit is refused, not truncated)."""

    max_frames: int = 240
    max_size: int = 256
    max_horizon: int = 64
    max_objects: int = 16
    max_seconds: float = 120.0

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            if getattr(self, f.name) <= 0:
                raise ValueError(f"Limits.{f.name} must be > 0, got {getattr(self, f.name)}")


@dataclass(frozen=True)
class Cap:
    """Marks a parameter bounded by a :class:`Limits` field (``le`` or ``max_length``)."""

    limit: str
    how: str = "le"


@dataclass(frozen=True)
class Tool:
    """A catalogue entry: the function, its argument model and its JSON Schema."""

    name: str
    description: str
    fn: Callable[..., dict[str, Any]]
    model: type[BaseModel]
    input_schema: dict[str, Any]
    caps: dict[str, str] = dataclasses.field(default_factory=dict)  # parameter -> Limits field


class ObjectArg(BaseModel):
    """One body for build_scene."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
    shape: Literal["sphere", "box", "cylinder", "capsule"]
    size: Annotated[
        list[Annotated[float, Field(gt=0, le=5)]],
        Field(
            min_length=1,
            max_length=3,
            description="metres: sphere [radius]; box [half_x, half_y, half_z]; "
            "cylinder/capsule [radius, length]",
        ),
    ]
    position: Annotated[
        list[float], Field(min_length=3, max_length=3, description="x, y, z (m), z up")
    ]
    color: str = Field("red", description="a colour word (red, blue, green, ...)")
    linear_velocity: Annotated[list[float], Field(min_length=3, max_length=3)] = [0.0, 0.0, 0.0]
    mass: Annotated[float, Field(ge=0, le=1000, description="kg; 0 makes the body static")] = 1.0
    restitution: Annotated[float, Field(ge=0, le=1)] = 0.5
    friction: Annotated[float, Field(ge=0, le=10)] = 0.5


def _description(fn: Callable) -> str:
    doc = inspect.getdoc(fn) or fn.__name__
    return doc.split("\n\n", 1)[0].replace("\n", " ")


def _capped(annotation: Any, limits: Limits) -> Any:
    """Replace :class:`Cap` markers by pydantic bounds read from ``limits``."""
    if get_origin(annotation) is not Annotated:
        return annotation
    base, *meta = get_args(annotation)
    out = []
    for m in meta:
        if isinstance(m, Cap):
            value = getattr(limits, m.limit)
            out.append(Field(le=value) if m.how == "le" else Field(max_length=value))
        else:
            out.append(m)
    return Annotated[(base, *out)]  # type: ignore[return-value]


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema()

    def strip(node: Any) -> None:  # titles repeat the names; drop them to keep schemas small
        if isinstance(node, dict):
            node.pop("title", None)
            for k, v in node.items():
                if k != "properties":
                    strip(v)
                else:
                    for prop in v.values():
                        strip(prop)
        elif isinstance(node, list):
            for v in node:
                strip(v)

    strip(schema)
    return schema


def _run_with_deadline(fn: Callable[[], Any], seconds: float) -> Any:
    """Run ``fn`` in a daemon thread and give up waiting after ``seconds``."""
    box: dict[str, Any] = {}
    done = threading.Event()

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=target, daemon=True, name="twinsim-tool").start()
    if not done.wait(seconds):
        raise TimeoutError
    if "error" in box:
        raise box["error"]
    return box["value"]


def _round(v: Any) -> Any:
    if isinstance(v, float | np.floating):
        return round(float(v), 4)
    if isinstance(v, list | tuple | np.ndarray):
        return [_round(x) for x in v]
    return v


class Catalogue:
    """The tool catalogue over one workspace folder, with per-call limits.

    Args:
        workspace: folder (created if missing) the tools read from and write into.
        limits: per-call limits.
        model: the neural model name for predict/compare (a bundled name, default "cpu").
    """

    def __init__(
        self, workspace: str | Workspace, limits: Limits | None = None, model: str = "cpu"
    ) -> None:
        self.workspace = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
        self.limits = limits or Limits()
        self.model_name = model
        self._model = None
        self.tools: dict[str, Tool] = {}
        for name in (
            "list_families",
            "sample_scene",
            "build_scene",
            "simulate",
            "predict",
            "compare",
            "ask",
            "describe_rollout",
            "list_outputs",
        ):
            self._register(getattr(self, f"tool_{name}"), name)

    # -- registry ----------------------------------------------------------------------------

    def _register(self, fn: Callable[..., dict[str, Any]], name: str) -> None:
        fields: dict[str, Any] = {}
        caps: dict[str, str] = {}
        hints = get_type_hints(fn, include_extras=True)
        for p in inspect.signature(fn).parameters.values():
            default = ... if p.default is inspect.Parameter.empty else p.default
            hint = hints[p.name]
            for m in get_args(hint)[1:] if get_origin(hint) is Annotated else ():
                if isinstance(m, Cap):
                    caps[p.name] = m.limit
            fields[p.name] = (_capped(hint, self.limits), default)
        model = create_model(  # type: ignore[call-overload]
            f"{name}_arguments", __config__=ConfigDict(extra="forbid"), **fields
        )
        self.tools[name] = Tool(name, _description(fn), fn, model, _schema(model), caps)

    def schemas(self) -> list[dict[str, Any]]:
        """``[{"name", "description", "input_schema"}]`` for every tool (MCP's shape)."""
        return [
            {"name": t.name, "description": t.description, "input_schema": t.input_schema}
            for t in self.tools.values()
        ]

    def openai_tools(self) -> list[dict[str, Any]]:
        """The catalogue in the OpenAI chat-completions ``tools`` format."""
        return [
            {
                "type": "function",
                "function": {
                    "name": t.name,
                    "description": t.description,
                    "parameters": t.input_schema,
                },
            }
            for t in self.tools.values()
        ]

    def call(self, name: str, arguments: dict[str, Any] | str | None = None) -> dict[str, Any]:
        """Validate ``arguments`` and run the tool ``name`` within the wall-time limit.

        Returns:
            The tool's small JSON result plus ``elapsed_ms`` (the tool's own compute time).

        Raises:
            ToolError: unknown tool, invalid arguments (each bad field named with the rule it
                breaks), a hostile path, a request over a limit, a timeout, or a failure the
                caller can fix (unknown family, missing file...).
        """
        tool = self.tools.get(name)
        if tool is None:
            raise ToolError(f"unknown tool {name!r}; valid tools: {', '.join(self.tools)}")
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments or "{}")
            except json.JSONDecodeError as exc:
                raise ToolError(f"{name}: arguments are not valid JSON ({exc})") from None
        if arguments is None:
            arguments = {}
        if not isinstance(arguments, dict):
            raise ToolError(f"{name}: arguments must be a JSON object")
        try:
            args = tool.model.model_validate(arguments)
        except ValidationError as exc:
            problems = []
            for e in exc.errors():
                where = ".".join(str(p) for p in e["loc"]) or "arguments"
                text = f"{where}: {e['msg']}"
                if e["type"] != "missing":
                    text += f" (got {json.dumps(e.get('input'), default=str)[:60]})"
                cap = tool.caps.get(str(e["loc"][0])) if e["loc"] else None
                if cap and e["type"] in ("less_than_equal", "too_long"):
                    text += f"; the per-call limit {cap} is {getattr(self.limits, cap)}"
                problems.append(text)
            raise ToolError(f"{name}: invalid arguments: {'; '.join(problems)}") from None
        kwargs = {k: getattr(args, k) for k in tool.model.model_fields}
        t0 = time.perf_counter()
        try:
            result = _run_with_deadline(lambda: tool.fn(**kwargs), self.limits.max_seconds)
        except TimeoutError:
            raise ToolError(
                f"{name}: timed out after {self.limits.max_seconds:g} s (the per-call limit "
                "max_seconds); ask for fewer frames, a smaller size or a shorter horizon"
            ) from None
        except (ToolError, WorkspaceError) as exc:
            raise ToolError(f"{name}: {exc}") from None
        except (ValueError, KeyError, FileNotFoundError, NotADirectoryError) as exc:
            msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
            raise ToolError(f"{name}: {msg}") from None
        result["elapsed_ms"] = round((time.perf_counter() - t0) * 1000, 3)
        return result

    # -- helpers ------------------------------------------------------------------------------

    def _load_spec(
        self, spec_path: str | None, family: str | None, seed: int, impossible: str | None
    ):
        from twinsim.sim import SceneSpec, sample_scene

        if (spec_path is None) == (family is None):
            raise ToolError(
                "give exactly one of spec_path (a scene JSON in the workspace) or family"
            )
        if spec_path is not None:
            path = self.workspace.resolve(spec_path, must_exist=True)
            if path.stat().st_size > 2_000_000:
                raise ToolError(f"{spec_path!r} is larger than 2 MB; not a scene spec")
            spec = SceneSpec.from_json(path.read_text(encoding="utf-8"))
        else:
            spec = sample_scene(family, seed, impossible=impossible)
        if len(spec.objects) > self.limits.max_objects:
            raise ToolError(
                f"the scene has {len(spec.objects)} bodies; the per-call limit max_objects is "
                f"{self.limits.max_objects}"
            )
        return spec

    def _fit(self, spec, frames: int | None, size: int | None):
        """Apply frames/size, then refuse what still exceeds the limits."""
        cams = spec.cameras
        if size is not None:
            cams = tuple(dataclasses.replace(c, width=size, height=size) for c in cams)
        world = spec.world
        if frames is not None:
            world = dataclasses.replace(world, duration=max(frames - 1, 1) / world.fps)
        spec = dataclasses.replace(spec, cameras=cams, world=world)
        cam = spec.cameras[0]
        if max(cam.width, cam.height) > self.limits.max_size:
            raise ToolError(
                f"the camera is {cam.width}x{cam.height} px; the per-call limit max_size is "
                f"{self.limits.max_size} (pass size=...)"
            )
        if spec.world.num_frames > self.limits.max_frames:
            raise ToolError(
                f"the scene lasts {spec.world.num_frames} frames; the per-call limit max_frames "
                f"is {self.limits.max_frames} (pass frames=...)"
            )
        return spec

    def _write_spec(self, spec, folder) -> str:
        path = folder / "spec.json"
        path.write_text(spec.to_json() + "\n", encoding="utf-8")
        return self.workspace.relative(path)

    def _world_model(self):
        if self._model is None:
            from twinsim.neural import load_pretrained

            self._model = load_pretrained(self.model_name)
        return self._model

    def _object_summary(self, rollout) -> dict[str, Any]:
        from twinsim.bridge.ask_events import first_contact, rest_frame

        out = {}
        for track in rollout.objects:
            c = first_contact(rollout, track.name) if "contacts" in rollout.labels else None
            rest = rest_frame(rollout, track.name)
            out[track.name] = {
                "start_m": _round(track.position[0]),
                "end_m": _round(track.position[-1]),
                "first_contact": None if c is None else c.to_dict(),
                "rest_frame": rest,
            }
        return out

    # -- the tools ----------------------------------------------------------------------------

    def tool_list_families(self) -> dict[str, Any]:
        """List the engine's scenario families with their descriptions and impossible twins."""
        from twinsim.sim import family_info, family_names

        return {
            "families": [
                {
                    "name": n,
                    "description": family_info(n).description,
                    "violations": list(family_info(n).violations),
                }
                for n in family_names()
            ]
        }

    def tool_sample_scene(
        self,
        family: Annotated[str, Field(description="a family from list_families")],
        seed: Annotated[int, Field(ge=0, le=2**31 - 1)] = 0,
        impossible: Annotated[
            str | None, Field(description="a violation kind the family offers")
        ] = None,
    ) -> dict[str, Any]:
        """Sample a scene spec from a family (seeded) and write it as JSON into the workspace.

        Returns the spec's path (for simulate/predict/compare), its objects and length.
        """
        spec = self._load_spec(None, family, seed, impossible)
        folder = self.workspace.new_folder("scenes")
        return {
            "spec_path": self._write_spec(spec, folder),
            "objects": list(spec.names),
            "frames": spec.world.num_frames,
            "fps": spec.world.fps,
            "violation": None if spec.violation is None else dataclasses.asdict(spec.violation),
        }

    def tool_build_scene(
        self,
        objects: Annotated[list[ObjectArg], Field(min_length=1), Cap("max_objects", "max_length")],
        duration_s: Annotated[float, Field(gt=0, le=10)] = 2.0,
        size: Annotated[int, Field(ge=16), Cap("max_size")] = 64,
    ) -> dict[str, Any]:
        """Build a scene spec from explicit bodies (floor at z = 0, z up) and write it as JSON.

        The camera is placed to see every body; returns the spec's path.
        """
        from twinsim.bridge.grammar import COLORS
        from twinsim.bridge.planner import _camera
        from twinsim.sim import LightSpec, ObjectSpec, SceneSpec, WorldSpec

        bodies = []
        for i, o in enumerate(objects):
            if o.color not in COLORS:
                raise ToolError(
                    f"objects[{i}].color: unknown colour {o.color!r}; valid: {', '.join(COLORS)}"
                )
            bodies.append(
                ObjectSpec(
                    name=o.name,
                    shape=o.shape,
                    size=tuple(o.size),
                    mass=o.mass,
                    restitution=o.restitution,
                    friction=o.friction,
                    color=COLORS[o.color],
                    position=tuple(o.position),
                    linear_velocity=tuple(o.linear_velocity),
                )
            )
        xs = [b.position[0] for b in bodies]
        zs = [b.position[2] for b in bodies]
        cam = _camera((min(xs) - 0.3, max(xs) + 0.3), (0.0, max(zs) + 0.3), size)
        spec = SceneSpec(
            objects=tuple(bodies),
            cameras=(cam,),
            light=LightSpec(shadows=False),
            world=WorldSpec(duration=duration_s, floor_restitution=0.7),
        )
        self._fit(spec, None, None)
        folder = self.workspace.new_folder("scenes")
        return {
            "spec_path": self._write_spec(spec, folder),
            "objects": list(spec.names),
            "frames": spec.world.num_frames,
        }

    def tool_simulate(
        self,
        spec_path: Annotated[str | None, Field(description="scene JSON in the workspace")] = None,
        family: Annotated[str | None, Field(description="or a family to sample")] = None,
        seed: Annotated[int, Field(ge=0, le=2**31 - 1)] = 0,
        impossible: str | None = None,
        frames: Annotated[int | None, Field(ge=1), Cap("max_frames")] = None,
        size: Annotated[int | None, Field(ge=16), Cap("max_size")] = None,
        labels: tuple[Label, ...] = _DEFAULT_LABELS,
    ) -> dict[str, Any]:
        """Render a scene with the physics engine: video plus exact labels, written to a folder.

        Give spec_path or family (+ seed, impossible). Returns the folder with preview.mp4,
        arrays.npz and labels.json, and per object its start/end position, first contact and
        rest frame read from the labels.
        """
        from twinsim.sim import simulate

        spec = self._fit(self._load_spec(spec_path, family, seed, impossible), frames, size)
        t0 = time.perf_counter()
        rollout = simulate(spec, labels=list(dict.fromkeys([*labels, "objects"])))
        seconds = time.perf_counter() - t0
        folder = self.workspace.new_folder("sims")
        rollout.save(folder)
        self._write_spec(spec, folder)
        rel = self.workspace.relative(folder)
        return {
            "folder": rel,
            "video": f"{rel}/preview.mp4",
            "labels": f"{rel}/labels.json",
            "arrays": f"{rel}/arrays.npz",
            "spec_path": f"{rel}/spec.json",
            "frames": rollout.num_frames,
            "size": [spec.cameras[0].width, spec.cameras[0].height],
            "engine_seconds": round(seconds, 3),
            "objects": self._object_summary(rollout),
        }

    def tool_predict(
        self,
        video_path: Annotated[str | None, Field(description="a video in the workspace")] = None,
        spec_path: str | None = None,
        family: str | None = None,
        seed: Annotated[int, Field(ge=0, le=2**31 - 1)] = 0,
        context: Annotated[int, Field(ge=1, le=64)] = 4,
        horizon: Annotated[int, Field(ge=1), Cap("max_horizon")] = 16,
    ) -> dict[str, Any]:
        """Predict future frames with the neural world model (no labels: a learned guess).

        From a video (its last `context` frames) or a scene (the engine renders the first
        `context` frames). Writes prediction.mp4; returns its path and the cost.
        """
        from twinsim.bridge import load_scene_or_frames, rollout

        if sum(x is not None for x in (video_path, spec_path, family)) != 1:
            raise ToolError("give exactly one of video_path, spec_path or family")
        if video_path is not None:
            frames = load_scene_or_frames(self.workspace.resolve(video_path, must_exist=True))
            source: Any = frames[-context:]
            res = rollout(source, horizon, backend="neural", model=self._world_model())
        else:
            spec = self._load_spec(spec_path, family, seed, None)
            res = rollout(
                spec, horizon, backend="neural", context=context, model=self._world_model()
            )
        folder = self.workspace.new_folder("predictions")
        video = res.save_video(folder / "prediction.mp4")
        summary = res.to_json()
        return {
            "folder": self.workspace.relative(folder),
            "video": self.workspace.relative(video),
            "frames": summary["frames"],
            "size": [summary["width"], summary["height"]],
            "context_frames": summary["context_frames"],
            "cost": summary["cost"],
            "reason": res.reason,
        }

    def tool_compare(
        self,
        spec_path: str | None = None,
        family: str | None = None,
        seed: Annotated[int, Field(ge=0, le=2**31 - 1)] = 0,
        impossible: str | None = None,
        horizon: Annotated[int, Field(ge=1), Cap("max_horizon")] = 16,
        context: Annotated[int | None, Field(ge=1, le=64)] = None,
        start: Annotated[int, Field(ge=0, le=4096)] = 0,
    ) -> dict[str, Any]:
        """Run engine and neural model on one scene and check the prediction against the engine.

        The model sees ``context`` engine frames from scene frame ``start`` (pick one where
        something moves) and predicts ``horizon`` more. Returns per-frame error, physics
        findings (object, frames, evidence) and the paths of the side-by-side video and JSON
        report.
        """
        from twinsim.bridge import compare

        model = self._world_model()
        # the model predicts frames of one size: render the engine's reference at that size
        k = model.context if context is None else context
        spec = self._load_spec(spec_path, family, seed, impossible)
        # compare renders start + K + horizon frames
        spec = self._fit(spec, start + k + horizon, model.resolution)
        folder = self.workspace.new_folder("compares")
        report = compare(spec, horizon, context, start=start, model=model, out=folder)
        data = report.to_json()
        files = {k: self.workspace.relative(v) for k, v in report.files.items()}
        return {
            "folder": self.workspace.relative(folder),
            "files": files,
            "summary": report.summary(),
            "mean_psnr_db": data["mean_psnr_db"],
            "copy_last_mean_psnr_db": data["copy_last_mean_psnr_db"],
            "per_step": data["per_step"],
            "findings": data["findings"][:20],
            "findings_total": len(data["findings"]),
        }

    def tool_ask(
        self,
        text: Annotated[
            str, Field(min_length=1, max_length=500, description="the request in words")
        ],
        size: Annotated[int, Field(ge=16), Cap("max_size")] = 64,
    ) -> dict[str, Any]:
        """Answer a worded request with the offline grammar planner and the engine.

        E.g. 'drop a red ball from 2 m onto a blue box', 'will this tower of 5 boxes fall?',
        'what happens next in clip.mp4, 16 frames' (a video in the workspace). Unsupported
        wording gets what was recognised and the accepted forms.
        """
        from twinsim.bridge.ask import answer_request
        from twinsim.bridge.grammar import PlannerError, parse
        from twinsim.bridge.planner import SceneLimits

        try:
            request = parse(text)
            q = request.question
            if q is not None and q.video is not None:
                video = self.workspace.resolve(q.video, must_exist=True)
                request = dataclasses.replace(
                    request, question=dataclasses.replace(q, video=str(video))
                )
            duration = (self.limits.max_frames - 1) / 24.0
            scene_limits = SceneLimits(
                max_objects=self.limits.max_objects, max_duration=min(duration, 6.0), size=size
            )
            folder = self.workspace.new_folder("asks")
            answer = answer_request(request, folder, "auto", scene_limits, self.limits.max_horizon)
        except PlannerError as exc:
            raise ToolError(str(exc)) from None
        return {
            "text": answer.text,
            "backend": answer.backend,
            "planner": answer.planner,
            "folder": self.workspace.relative(folder),
            "files": {k: self.workspace.relative(v) for k, v in answer.files.items()},
            "evidence": answer.evidence,
        }

    def tool_describe_rollout(
        self,
        folder: Annotated[str, Field(description="a simulate/ask output folder in the workspace")],
    ) -> dict[str, Any]:
        """Describe what happens in a rendered rollout, in numbers read from its labels.

        Per object: first contact, bounce, rest frame and distance travelled.
        """
        from twinsim.bridge.ask import describe_rollout
        from twinsim.bridge.planner import Plan
        from twinsim.sim import Rollout

        path = self.workspace.resolve(folder, must_exist=True)
        if not (path / "labels.json").is_file():
            raise ToolError(f"{folder!r} holds no labels.json (run simulate first)")
        rollout = Rollout.load(path)
        spec = rollout.spec
        dynamic = [o.name for o in spec.objects if o.mass > 0 and not o.kinematic]
        plan = Plan(spec, dynamic[0] if dynamic else None, None, "family")
        text, evidence = describe_rollout(rollout, plan)
        return {"text": text, "evidence": evidence, "objects": self._object_summary(rollout)}

    def tool_list_outputs(self) -> dict[str, Any]:
        """List the files in the workspace (relative paths and sizes, at most 500)."""
        files = self.workspace.files()
        return {
            "workspace": str(self.workspace.root),
            "files": [
                {"path": self.workspace.relative(p), "bytes": p.stat().st_size} for p in files
            ],
        }
