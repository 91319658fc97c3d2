"""Forward optical flow from the known 3D motion (not estimated).

Each pixel of frame t is unprojected with its depth and K, moved rigidly with the body it shows
(segmentation; background and floor are static), and reprojected with the camera of frame t + 1.
Flow is (du, dv) in pixels, float32, (T, H, W, 2); the last frame is zeros.
"""

from __future__ import annotations

import numpy as np

__all__ = ["forward_flow", "pose_matrices", "quat_to_matrix"]


def quat_to_matrix(q: np.ndarray) -> np.ndarray:
    """(..., 4) quaternions (x, y, z, w) -> (..., 3, 3) rotation matrices."""
    q = np.asarray(q, dtype=np.float64)
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    x, y, z, w = np.moveaxis(q, -1, 0)
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], -1),
            np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], -1),
            np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], -1),
        ],
        -2,
    )


def pose_matrices(position: np.ndarray, orientation: np.ndarray) -> np.ndarray:
    """(..., 3) positions and (..., 4) quaternions -> (..., 4, 4) body-to-world transforms."""
    position = np.asarray(position, dtype=np.float64)
    m = np.zeros((*position.shape[:-1], 4, 4))
    m[..., :3, :3] = quat_to_matrix(orientation)
    m[..., :3, 3] = position
    m[..., 3, 3] = 1.0
    return m


def forward_flow(
    depth: np.ndarray,
    segmentation: np.ndarray,
    K: np.ndarray,
    world_to_camera: np.ndarray,
    position: np.ndarray,
    orientation: np.ndarray,
) -> np.ndarray:
    """Forward flow for a whole rollout.

    Args:
        depth: (T, H, W) metric z-depth. segmentation: (T, H, W) int32, id i + 1 = body i.
        K: (3, 3) intrinsics. world_to_camera: (T, 4, 4) OpenCV extrinsics per frame.
        position: (T, N, 3) and orientation: (T, N, 4) body poses per frame.

    Returns:
        (T, H, W, 2) float32 flow in pixels; pixels that would land behind the camera get 0.
    """
    T, H, W = depth.shape
    flow = np.zeros((T, H, W, 2), np.float32)
    poses = pose_matrices(position, orientation)  # (T, N, 4, 4)
    n = poses.shape[1]
    v, u = np.mgrid[0:H, 0:W].astype(np.float64)
    pix = np.stack([u + 0.5, v + 0.5, np.ones_like(u)], -1).reshape(-1, 3)
    rays = pix @ np.linalg.inv(K).T  # camera-frame points at z = 1
    for t in range(T - 1):
        cam = np.concatenate([rays * depth[t].reshape(-1, 1), np.ones((H * W, 1))], 1)
        c2w = np.linalg.inv(world_to_camera[t])
        # Per segmentation id, camera(t) -> camera(t+1) transform; id 0 (static) is the camera's.
        motion = np.tile(np.eye(4), (n + 1, 1, 1))
        motion[1:] = poses[t + 1] @ np.linalg.inv(poses[t])
        chain = world_to_camera[t + 1] @ motion @ c2w  # (n + 1, 4, 4)
        seg = np.clip(segmentation[t].reshape(-1), 0, n)
        moved = np.einsum("pij,pj->pi", chain[seg], cam)[:, :3]
        z = moved[:, 2]
        ok = z > 1e-9
        proj = moved @ K.T
        uv = np.zeros((H * W, 2))
        uv[ok] = proj[ok, :2] / z[ok, None] - pix[ok, :2]
        flow[t] = uv.reshape(H, W, 2).astype(np.float32)
    return flow
