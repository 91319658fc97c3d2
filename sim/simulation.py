"""simulate(): run a SceneSpec in a World and render the requested labels into a Rollout."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from tqdm import tqdm
from twinsim.sim.errors import UnknownNameError
from twinsim.sim.labels import resolve_labels
from twinsim.sim.render.base import Renderer
from twinsim.sim.render.camera import camera_pose_at
from twinsim.sim.render.flow import forward_flow
from twinsim.sim.render.registry import get_renderer
from twinsim.sim.render.visibility import silhouette_areas, visibility
from twinsim.sim.rollout import CameraTrack, ObjectTrack, Rollout
from twinsim.sim.spec import CameraSpec, SceneSpec
from twinsim.sim.world.world import World

__all__ = ["simulate"]


def _pick_camera(spec: SceneSpec, camera: str | CameraSpec | None) -> CameraSpec:
    if camera is None:
        return spec.cameras[0]
    if isinstance(camera, CameraSpec):
        return camera
    for c in spec.cameras:
        if c.name == camera:
            return c
    raise UnknownNameError("camera", camera, [c.name for c in spec.cameras])


def simulate(
    spec: SceneSpec,
    renderer: str | Renderer = "tiny",
    labels: str | Iterable[str] | None = None,
    camera: str | CameraSpec | None = None,
    progress: bool = False,
) -> Rollout:
    """Simulate ``spec`` for ``spec.world.num_frames`` frames and render the chosen labels.

    Args:
        spec: the scene.
        renderer: a name from ``twinsim.sim.RENDERERS`` or a Renderer instance (reused, not
            closed).
        labels: None (defaults), "all", a CSV string or names; see ``twinsim.sim.ALL_LABELS``.
        camera: a camera name of the spec, a CameraSpec, or None for the spec's first camera.
        progress: show a tqdm bar over frames.

    Returns:
        A Rollout with exactly the requested labels filled (others None / empty).
    """
    chosen = resolve_labels(labels)
    cam = _pick_camera(spec, camera)
    own = not isinstance(renderer, Renderer)
    rend = get_renderer(renderer) if own else renderer
    T, n = spec.world.num_frames, len(spec.objects)
    want_flow, want_vis = "flow" in chosen, "visibility" in chosen
    need_rgb = "rgb" in chosen
    need_depth = "depth" in chosen or want_flow
    need_seg = "segmentation" in chosen or want_flow or want_vis
    h, w = cam.height, cam.width
    rgb = np.zeros((T, h, w, 3), np.uint8) if need_rgb else None
    depth = np.zeros((T, h, w), np.float32) if need_depth else None
    seg = np.zeros((T, h, w), np.int32) if need_seg else None
    pos, orn = np.zeros((T, n, 3)), np.zeros((T, n, 4))
    lin, ang = np.zeros((T, n, 3)), np.zeros((T, n, 3))
    present = np.zeros((T, n), bool)
    w2c = np.zeros((T, 4, 4))
    bbox = np.full((T, n, 4), -1, np.float32)
    frac = np.zeros((T, n), np.float32)
    occl = np.zeros((T, n), bool)
    pose0 = camera_pose_at(cam, 0.0)
    try:
        with World(spec, contacts="contacts" in chosen) as world:
            for t in tqdm(range(T), disable=not progress, desc="simulate", unit="frame"):
                if t > 0:
                    world.step_frame()
                state = world.state()
                for i, b in enumerate(state.bodies.values()):
                    pos[t, i], orn[t, i] = b.position, b.orientation
                    lin[t, i], ang[t, i] = b.linear_velocity, b.angular_velocity
                    present[t, i] = b.present
                pose = camera_pose_at(cam, state.time) if cam.path else pose0
                w2c[t] = pose.world_to_camera
                views = world.body_views()
                if need_rgb or need_depth or need_seg:
                    frame = rend.render(
                        world.client,
                        views,
                        pose,
                        spec.light,
                        spec.world,
                        rgb=need_rgb,
                        depth=need_depth,
                        segmentation=need_seg,
                    )
                    if need_rgb:
                        rgb[t] = frame.rgb
                    if need_depth:
                        depth[t] = frame.depth
                    if need_seg:
                        seg[t] = frame.segmentation
                if want_vis:
                    areas = silhouette_areas(
                        rend, world.client, views, pose, spec.light, spec.world
                    )
                    bbox[t], frac[t], occl[t] = visibility(seg[t], areas, present[t])
            contacts = world.contacts
    finally:
        if own:
            rend.close()
    flow = forward_flow(depth, seg, pose0.K, w2c, pos, orn) if want_flow else None
    objects = []
    if "objects" in chosen or want_vis:
        for i, name in enumerate(spec.names):
            objects.append(
                ObjectTrack(
                    name=name,
                    position=pos[:, i].copy(),
                    orientation=orn[:, i].copy(),
                    linear_velocity=lin[:, i].copy(),
                    angular_velocity=ang[:, i].copy(),
                    present=present[:, i].copy(),
                    bbox=bbox[:, i].copy() if want_vis else None,
                    visible_fraction=frac[:, i].copy() if want_vis else None,
                    occluded=occl[:, i].copy() if want_vis else None,
                )
            )
    camera_track = None
    if "camera" in chosen:
        camera_track = CameraTrack(
            name=cam.name,
            width=w,
            height=h,
            K=pose0.K,
            world_to_camera=w2c,
            near=cam.near,
            far=cam.far,
        )
    return Rollout(
        spec=spec,
        times=np.arange(T, dtype=np.float64) / spec.world.fps,
        labels=chosen,
        rgb=rgb,
        depth=depth if "depth" in chosen else None,
        segmentation=seg if "segmentation" in chosen else None,
        flow=flow,
        objects=objects,
        camera=camera_track,
        contacts=contacts,
    )
