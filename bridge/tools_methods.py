"""The catalogue's tools, one typed method each (mixed into :class:`~twinsim.bridge.tools.Catalogue`).

A tool's signature is its JSON Schema (read with ``get_type_hints``), so every name its
annotations use must be importable from this module.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Annotated, Any, Literal

from pydantic import Field
from twinsim.bridge.ask_events import object_summary
from twinsim.bridge.tools_types import _DEFAULT_LABELS, Cap, Label, Limits, ObjectArg, ToolError
from twinsim.bridge.tools_workspace import Workspace

# what a prediction's extra holds that a planner can use: the hybrid's, and auto's hindcast
_PREDICT_EXTRAS = ("uncertainty", "camera_source", "material_spread", "hindcast_psnr")


class ToolMethods:
    """The tools and their shared helpers; the catalogue supplies the attributes below."""

    workspace: Workspace
    limits: Limits
    model_name: str
    _model: Any

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
        from twinsim.sim.fileio import write_text

        return self.workspace.relative(write_text(folder / "spec.json", spec.to_json() + "\n"))

    def _world_model(self):
        if self._model is None:
            from twinsim.neural import load_pretrained

            self._model = load_pretrained(self.model_name)
        return self._model

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
            "objects": object_summary(rollout),
        }

    def tool_predict(
        self,
        video_path: Annotated[str | None, Field(description="a video in the workspace")] = None,
        spec_path: str | None = None,
        family: str | None = None,
        seed: Annotated[int, Field(ge=0, le=2**31 - 1)] = 0,
        context: Annotated[int, Field(ge=1, le=64)] = 4,
        horizon: Annotated[int, Field(ge=1), Cap("max_horizon")] = 16,
        backend: Literal["neural", "hybrid", "auto"] = "neural",
        samples: Annotated[int, Field(ge=1, le=16)] = 1,
    ) -> dict[str, Any]:
        """Predict future frames from a video or a scene's first `context` frames.

        backend "neural": the pixel world model (a learned guess, fast). "hybrid": estimate
        the objects and let the physics engine play them forward (slower, seconds; returns
        its uncertainty 0..1, above about 0.5 do not trust it); `samples` > 1 averages that
        many draws of the unseen masses, frictions and bounces. "auto" (videos only, context
        >= 9): whichever of the two predicts the video's last 3 context frames better from the
        ones before (returns hindcast_psnr and the reason). Writes prediction.mp4; returns its
        path and the cost.
        """
        from twinsim.bridge import load_scene_or_frames, rollout

        if sum(x is not None for x in (video_path, spec_path, family)) != 1:
            raise ToolError("give exactly one of video_path, spec_path or family")
        if backend == "auto" and video_path is None:
            raise ToolError(
                "backend 'auto' is for videos; for a scene, 'simulate' gives the engine's exact "
                "frames, or pick backend 'neural' or 'hybrid'"
            )
        # rollout refuses samples for the neural backend (a ValueError: the caller's ToolError)
        opts: dict[str, Any] = {"backend": backend, "samples": samples, "seed": seed}
        if backend in ("neural", "auto"):
            opts["model"] = self._world_model()
        if video_path is not None:
            frames = load_scene_or_frames(self.workspace.resolve(video_path, must_exist=True))
            source: Any = frames[-context:]
            res = rollout(source, horizon, **opts)
        else:
            spec = self._load_spec(spec_path, family, seed, None)
            res = rollout(spec, horizon, context=context, **opts)
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
            "backend": res.backend,
            **{k: v for k, v in res.extra.items() if k in _PREDICT_EXTRAS},
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
        from twinsim.bridge.ask_api import answer_request
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
        from twinsim.bridge.ask_api import describe_rollout
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
        return {"text": text, "evidence": evidence, "objects": object_summary(rollout)}

    def tool_list_outputs(self) -> dict[str, Any]:
        """List the files in the workspace (relative paths and sizes, at most 500)."""
        files = self.workspace.files()
        return {
            "workspace": str(self.workspace.root),
            "files": [
                {"path": self.workspace.relative(p), "bytes": p.stat().st_size} for p in files
            ],
        }
