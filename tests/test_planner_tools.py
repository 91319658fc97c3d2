"""The tool catalogue: generated schemas, validation, workspace confinement, limits, timeouts."""

from __future__ import annotations

import json
import os

import pytest
from twinsim.bridge.tools import Catalogue, Limits, ToolError
from twinsim.bridge.tools_workspace import Workspace, WorkspaceError

TOOLS = {
    "list_families",
    "sample_scene",
    "build_scene",
    "simulate",
    "predict",
    "compare",
    "ask",
    "describe_rollout",
    "list_outputs",
}


@pytest.fixture
def cat(tmp_path):
    return Catalogue(tmp_path / "ws", Limits(max_frames=48, max_size=64, max_objects=8))


def test_schemas_generated_from_signatures(cat):
    schemas = {s["name"]: s for s in cat.schemas()}
    assert set(schemas) == TOOLS
    sim = schemas["simulate"]["input_schema"]
    assert sim["type"] == "object" and sim["additionalProperties"] is False
    frames = sim["properties"]["frames"]["anyOf"][0]
    assert frames["maximum"] == 48  # the per-call limit is in the schema
    assert set(sim["properties"]["labels"]["items"]["enum"]) >= {"rgb", "contacts"}
    build = schemas["build_scene"]["input_schema"]
    assert build["properties"]["objects"]["maxItems"] == 8
    assert build["required"] == ["objects"]
    assert all(s["description"] for s in schemas.values())
    openai = cat.openai_tools()
    assert (
        openai[0]["type"] == "function" and openai[0]["function"]["parameters"]["type"] == "object"
    )
    json.dumps(cat.schemas())  # plain JSON


def test_sample_simulate_describe(cat):
    s = cat.call("sample_scene", {"family": "drop", "seed": 2})
    assert s["spec_path"].startswith("scenes/") and s["objects"]
    r = cat.call("simulate", {"spec_path": s["spec_path"], "frames": 24, "size": 32})
    assert r["frames"] == 24 and r["size"] == [32, 32]
    for key in ("video", "labels", "arrays", "spec_path"):
        assert (cat.workspace.root / r[key]).is_file()
    body = r["objects"][s["objects"][0]]
    assert body["first_contact"]["b"] == "floor"  # dropped bodies land on the floor
    assert body["end_m"][2] < body["start_m"][2]
    d = cat.call("describe_rollout", {"folder": r["folder"]})
    assert "travels" in d["text"]
    assert r["elapsed_ms"] > 0
    listed = {f["path"] for f in cat.call("list_outputs")["files"]}
    assert r["video"] in listed and s["spec_path"] in listed


def test_build_scene_and_ask(cat):
    b = cat.call(
        "build_scene",
        {
            "objects": [
                {"name": "ball", "shape": "sphere", "size": [0.1], "position": [0, 0, 1.0]},
                {
                    "name": "crate",
                    "shape": "box",
                    "size": [0.2, 0.2, 0.1],
                    "position": [0, 0, 0.1],
                    "color": "blue",
                    "mass": 0,
                },
            ],
            "duration_s": 1.0,
            "size": 32,
        },
    )
    r = cat.call("simulate", {"spec_path": b["spec_path"]})
    assert r["objects"]["ball"]["first_contact"]["b"] == "crate"
    a = cat.call("ask", {"text": "drop a red ball from 1 m onto a blue box", "size": 32})
    assert a["backend"] == "engine" and "first touches the blue box" in a["text"]
    assert (cat.workspace.root / a["files"]["video"]).is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"spec_path": "../outside.json"}, "'..'"),
        ({"spec_path": "/etc/passwd"}, "absolute"),
        ({"spec_path": "~/x.json"}, "absolute"),
        ({"spec_path": "link/spec.json"}, "symbolic link"),
        ({"spec_path": "missing.json"}, "no such file"),
        ({"family": "nope"}, "valid families"),
        ({"family": "drop", "spec_path": "x.json"}, "exactly one"),
        ({"family": "drop", "frames": 10_000}, "max_frames is 48"),
        ({"family": "drop", "size": 4096}, "max_size is 64"),
        ({"family": "drop", "seed": -1}, "greater than or equal to 0"),
        ({"family": "drop", "bogus": 1}, "Extra inputs"),
        ({"family": "drop", "labels": ["smell"]}, "labels.0"),
        ({"family": "drop"}, "max_frames is 48"),  # the family's own 61 frames are too many
        ({"family": "spill", "frames": 4}, "max_objects is 8"),
    ],
)
def test_bad_arguments_get_clear_errors(cat, tmp_path, args, message):
    (tmp_path / "outside").mkdir()
    os.symlink(tmp_path / "outside", cat.workspace.root / "link")
    with pytest.raises(ToolError, match="simulate") as info:
        cat.call("simulate", args)
    assert message in str(info.value)


def test_unknown_tool_and_bad_json(cat):
    with pytest.raises(ToolError, match="valid tools: list_families"):
        cat.call("rm_rf", {})
    with pytest.raises(ToolError, match="not valid JSON"):
        cat.call("simulate", "{frames: 3")
    with pytest.raises(ToolError, match="I recognised"):
        cat.call("ask", {"text": "paint the wall"})
    with pytest.raises(ToolError, match="at most 500 characters"):
        cat.call("ask", {"text": "x" * 501})
    with pytest.raises(ToolError, match=r"'\.\.'"):  # a video path in the words is confined too
        cat.call("ask", {"text": "what happens next in ../clip.mp4"})


def test_oversized_objects_and_scene_files(cat):
    many = [
        {"name": f"b{i}", "shape": "sphere", "size": [0.05], "position": [i * 0.2, 0, 0.5]}
        for i in range(9)
    ]
    with pytest.raises(ToolError, match="max_objects is 8"):
        cat.call("build_scene", {"objects": many})
    big = cat.workspace.root / "big.json"
    big.write_text(" " * 2_100_000)
    with pytest.raises(ToolError, match="larger than 2 MB"):
        cat.call("simulate", {"spec_path": "big.json"})


def test_timeout(tmp_path):
    slow = Catalogue(tmp_path, Limits(max_seconds=0.05))
    with pytest.raises(ToolError, match=r"timed out after 0.05 s .*max_seconds"):
        slow.call("simulate", {"family": "drop", "frames": 48})


def test_workspace_rules(tmp_path):
    ws = Workspace(tmp_path / "w")
    assert ws.resolve("a/b.json") == ws.root / "a" / "b.json"
    assert ws.resolve("./a") == ws.root / "a"
    for bad in ("", "..", "a/../../b", "/abs", "a\\b", "a\x00b", "~root"):
        with pytest.raises(WorkspaceError):
            ws.resolve(bad)
    (tmp_path / "secret").write_text("s")
    os.symlink(tmp_path / "secret", ws.root / "s")
    with pytest.raises(WorkspaceError, match="symbolic link"):
        ws.resolve("s")
    assert ws.files() == []  # symlinks are not listed
    with pytest.raises(NotADirectoryError):
        Workspace(tmp_path / "secret")


def test_predict_from_scene_and_from_workspace_video(cat):
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # the default oversubscribes small machines
    try:
        p = cat.call("predict", {"family": "drop", "seed": 1, "context": 2, "horizon": 3})
        assert p["frames"] == 3 and p["context_frames"] == 2
        assert (cat.workspace.root / p["video"]).is_file()
        v = cat.call("predict", {"video_path": p["video"], "context": 2, "horizon": 2})
        assert v["frames"] == 2 and v["context_frames"] == 2
    finally:
        torch.set_num_threads(before)
    with pytest.raises(ToolError, match="exactly one"):
        cat.call("predict", {"family": "drop", "video_path": p["video"]})
    with pytest.raises(ToolError, match="max_horizon"):
        cat.call("predict", {"family": "drop", "horizon": 1000})
    with pytest.raises(ToolError, match="samples=2 is for backend='hybrid'"):
        cat.call("predict", {"family": "drop", "samples": 2})


def test_predict_tool_asks_the_hybrid_with_material_samples(cat):
    args = {"family": "collide", "seed": 2, "context": 6, "horizon": 3}
    h = cat.call("predict", {**args, "backend": "hybrid", "samples": 2})
    assert h["backend"] == "hybrid" and h["frames"] == 3
    assert 0.0 <= h["uncertainty"] <= 1.0 and h["camera_source"] == "given"
    assert len(h["material_spread"]) == 3
    assert (cat.workspace.root / h["video"]).is_file()
    schema = {s["name"]: s for s in cat.schemas()}["predict"]["input_schema"]["properties"]
    assert schema["backend"]["enum"] == ["neural", "hybrid", "auto"]
    assert schema["samples"]["maximum"] == 16


def test_predict_tool_auto_picks_for_a_video_by_its_hindcast(cat):
    sim = cat.call("simulate", {"family": "projectile", "seed": 1, "frames": 16})
    a = cat.call(
        "predict", {"video_path": sim["video"], "context": 10, "horizon": 3, "backend": "auto"}
    )
    assert a["backend"] in ("hybrid", "neural") and "last 3 frames" in a["reason"]
    assert set(a["hindcast_psnr"]) == {"hybrid", "neural", "copy_last"}
    assert a["backend"] == max(("neural", "hybrid"), key=lambda b: a["hindcast_psnr"][b])
    with pytest.raises(ToolError, match="'auto' is for videos"):
        cat.call("predict", {"family": "projectile", "backend": "auto"})


def test_compare_tool_starts_its_context_where_asked(cat):
    r = cat.call("compare", {"family": "occlusion", "seed": 4, "horizon": 3, "start": 14})
    assert [s["frame"] for s in r["per_step"]] == [18, 19, 20]  # 4 context frames from 14
    assert (cat.workspace.root / r["files"]["json"]).is_file()
    with pytest.raises(ToolError, match="max_frames"):  # start + context + horizon > 48
        cat.call("compare", {"family": "occlusion", "seed": 4, "horizon": 3, "start": 44})
