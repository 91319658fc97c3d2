"""The Ray backend writes exactly the bytes the local backend writes (local Ray, 2 CPUs)."""

from __future__ import annotations

import pytest
from test_dataset import tiny_config, tree_bytes
from twinsim.sim.datasets.generate import generate_dataset

ray = pytest.importorskip("ray", reason="ray not installed (pip install 'twinsim[ray]')")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_ray_backend_equals_local(tmp_path, local_ray):
    config = tiny_config(scenes=4, shard_size=2)
    generate_dataset(config, tmp_path / "local", progress=False)
    ray_config = tiny_config(scenes=4, shard_size=2, backend="ray", workers=2)
    summary = generate_dataset(ray_config, tmp_path / "ray", progress=False)
    assert summary.shards_written == summary.shards > 0
    assert tree_bytes(tmp_path / "local") == tree_bytes(tmp_path / "ray")
