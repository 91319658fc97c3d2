"""Package shape: the lazy top-level API and the one-way dependency rule between subpackages."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import twinsim

ROOT = Path(__file__).resolve().parent.parent
# subpackage folder -> twinsim subpackages it must never import (sim <- neural <- envs/bridge <- CLI)
FORBIDDEN = {
    "sim": ("twinsim.neural", "twinsim.envs", "twinsim.bridge", "twinsim.cli", "twinsim.commands"),
    "neural": ("twinsim.envs", "twinsim.bridge", "twinsim.cli", "twinsim.commands"),
    "envs": ("twinsim.bridge", "twinsim.cli", "twinsim.commands"),
    "bridge": ("twinsim.cli", "twinsim.commands"),
    "twinsim": (),  # the CLI may import everything, but never the bare folder names
}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _strings(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    consts = (n.value for n in ast.walk(tree) if isinstance(n, ast.Constant))
    return {v.split(":")[0] for v in consts if isinstance(v, str) and v.startswith("twinsim")}


@pytest.mark.parametrize("folder", sorted(FORBIDDEN))
def test_dependencies_point_one_way(folder):
    bad = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for name in _imports(path):
            top = name.split(".")[0]
            if top in {"sim", "neural", "envs", "bridge"}:
                bad.append(f"{path.relative_to(ROOT)} imports bare {name!r} (use twinsim.{name})")
            if any(name == f or name.startswith(f + ".") for f in FORBIDDEN[folder]):
                bad.append(f"{path.relative_to(ROOT)} imports {name!r}")
            if name == "twinsim" and folder != "twinsim":  # its lazy names reach every package
                bad.append(f"{path.relative_to(ROOT)} imports the bare 'twinsim' face")
        for text in _strings(path):  # lazy imports name their module in a string
            if any(text == f or text.startswith(f + ".") for f in FORBIDDEN[folder]):
                bad.append(f"{path.relative_to(ROOT)} names {text!r} (a lazy import?)")
    assert not bad, "\n".join(bad)


def test_import_twinsim_is_cheap():
    code = (
        "import sys, twinsim; print(sorted(m for m in ('torch', 'pybullet') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_lazy_names_resolve_to_the_subpackage_objects():
    from twinsim.neural import WorldModel
    from twinsim.sim import sample_scene, simulate

    assert twinsim.sample_scene is sample_scene
    assert twinsim.simulate is simulate
    assert twinsim.WorldModel is WorldModel
    assert set(twinsim.__all__) <= set(dir(twinsim))
    spec = twinsim.sample_scene("drop", 1)
    assert twinsim.SceneSpec.from_json(spec.to_json()) == spec


def test_unknown_attribute_raises_attribute_error():
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = twinsim.no_such_name
