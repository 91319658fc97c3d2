"""PyBullet TinyRenderer backend ("tiny"): CPU, zero setup, draws the world's own client."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from twinsim.sim._pybullet import pybullet as p
from twinsim.sim.render.base import BodyView, Frame, Renderer
from twinsim.sim.render.camera import CameraPose
from twinsim.sim.spec import LightSpec, WorldSpec
from twinsim.sim.world.bodies import SEG_USER_KEY

__all__ = ["TinyRenderer", "gl_matrices", "linearize_depth"]

# OpenCV (x right, y down, z forward) -> OpenGL (x right, y up, z backward) camera axes.
_CV_TO_GL = np.diag([1.0, -1.0, -1.0, 1.0])


def gl_matrices(camera: CameraPose) -> tuple[list[float], list[float]]:
    """PyBullet (column-major) view and projection matrices matching ``camera.K`` exactly."""
    view = (_CV_TO_GL @ camera.world_to_camera).T.ravel().tolist()
    aspect = camera.width / camera.height
    proj = list(p.computeProjectionMatrixFOV(camera.fov, aspect, camera.near, camera.far))
    # TinyRenderer samples pixel corners, not centres: shift half a pixel so pixel (u, v) sees
    # continuous (u + 0.5, v + 0.5) as K says (matches pyrender exactly).
    proj[8] += 1.0 / camera.width
    proj[9] += 1.0 / camera.height
    return view, proj


def linearize_depth(buffer: np.ndarray, near: float, far: float) -> np.ndarray:
    """Metric z-depth (m, float32) from an OpenGL depth buffer in [0, 1] (1 = far plane)."""
    d = buffer.astype(np.float64)
    return (far * near / (far - (far - near) * d)).astype(np.float32)


class TinyRenderer(Renderer):
    """PyBullet's software TinyRenderer. Draws the bodies of ``client`` (``bodies`` gives which
    ones are drawn: absent or unlisted bodies are skipped) with the scene light and shadows."""

    name: ClassVar[str] = "tiny"

    def render(
        self,
        client: int,
        bodies: list[BodyView],
        camera: CameraPose,
        light: LightSpec,
        world: WorldSpec,
        *,
        rgb: bool = True,
        depth: bool = True,
        segmentation: bool = True,
    ) -> Frame:
        lut = _seg_lut(client)
        hide = _hidden_uids(client, lut, bodies, world)
        for uid in hide:
            _set_alpha(client, uid, 0.0)
        try:
            return self._draw(client, lut, camera, light, rgb, depth, segmentation)
        finally:
            for uid, alpha in hide.items():
                _set_alpha(client, uid, alpha)

    def render_silhouettes(
        self, client: int, bodies: list[BodyView], camera: CameraPose
    ) -> dict[int, np.ndarray]:
        """Segmentation of each visible body drawn alone: seg id -> (H, W) bool mask.

        Hides every body once, then shows one at a time (O(N) visual changes, N renders).
        """
        lut = _seg_lut(client)
        light = LightSpec(shadows=False)
        shown = {b.seg_id for b in bodies if b.visible}
        alphas = {uid: _alpha(client, uid) for uid in lut if uid >= 0}
        for uid in alphas:
            _set_alpha(client, uid, 0.0)
        out: dict[int, np.ndarray] = {}
        try:
            for uid, alpha in alphas.items():
                seg = lut[uid]
                if seg not in shown or alpha == 0.0:
                    continue
                _set_alpha(client, uid, alpha)
                frame = self._draw(client, lut, camera, light, False, False, True)
                _set_alpha(client, uid, 0.0)
                out[seg] = out.get(seg, False) | (frame.segmentation == seg)
        finally:
            for uid, alpha in alphas.items():
                _set_alpha(client, uid, alpha)
        return out

    def _draw(self, client, lut, camera, light, rgb, depth, segmentation) -> Frame:
        view, proj = gl_matrices(camera)
        flags = 0 if segmentation else p.ER_NO_SEGMENTATION_MASK
        _, _, px, dbuf, seg = p.getCameraImage(
            camera.width,
            camera.height,
            viewMatrix=view,
            projectionMatrix=proj,
            shadow=int(light.shadows and rgb),
            lightDirection=list(light.direction),
            lightColor=list(light.color),
            lightAmbientCoeff=light.ambient,
            lightDiffuseCoeff=light.diffuse,
            lightSpecularCoeff=light.specular,
            renderer=p.ER_TINY_RENDERER,
            flags=flags,
            physicsClientId=client,
        )
        h, w = camera.height, camera.width
        frame = Frame()
        if rgb:
            frame.rgb = np.ascontiguousarray(np.asarray(px, np.uint8).reshape(h, w, 4)[..., :3])
        if depth:
            buf = np.asarray(dbuf, np.float32).reshape(h, w)
            frame.depth = linearize_depth(buf, camera.near, camera.far)
        if segmentation:
            raw = np.asarray(seg, np.int32).reshape(h, w)
            table = np.zeros(max(lut) + 2, np.int32)  # index 0 <- raw -1 (nothing hit)
            for uid, sid in lut.items():
                table[uid + 1] = sid
            frame.segmentation = table[np.clip(raw, -1, len(table) - 2) + 1]
        return frame


def _seg_lut(client: int) -> dict[int, int]:
    """PyBullet body uid -> segmentation id, read from the bodies' user data (unknown -> 0)."""
    lut = {}
    for i in range(p.getNumBodies(physicsClientId=client)):
        uid = p.getBodyUniqueId(i, physicsClientId=client)
        key = p.getUserDataId(uid, SEG_USER_KEY, physicsClientId=client)
        sid = 0
        if key is not None and key >= 0:
            sid = int(p.getUserData(key, physicsClientId=client))
        lut[uid] = sid
    return lut


def _hidden_uids(client, lut, bodies, world) -> dict[int, float]:
    """Bodies drawn now that the caller did not ask for: uid -> their alpha, to restore."""
    wanted = {b.seg_id for b in bodies if b.visible}
    out = {}
    for uid, sid in lut.items():
        skip = (sid == 0 and not world.floor) or (sid != 0 and sid not in wanted)
        if skip:
            alpha = _alpha(client, uid)
            if alpha > 0:
                out[uid] = alpha
    return out


def _alpha(client: int, uid: int) -> float:
    return float(p.getVisualShapeData(uid, physicsClientId=client)[0][7][3])


def _set_alpha(client: int, uid: int, alpha: float) -> None:
    rgba = list(p.getVisualShapeData(uid, physicsClientId=client)[0][7])
    rgba[3] = alpha
    p.changeVisualShape(uid, -1, rgbaColor=rgba, physicsClientId=client)
