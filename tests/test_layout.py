"""The house rules of twinsim.sim: sub-packages that say what they offer, no import cycles,
one name per attribute, and a CLI that starts without the heavy libraries."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "pybullet", "trimesh", "scipy", "pyrender")
FACES = (
    "twinsim",
    "twinsim.sim",
    "twinsim.sim.world",
    "twinsim.sim.render",
    "twinsim.sim.datasets",
    # lazy faces: an exported function named like a sub-module becomes the module once that is
    # imported (twinsim.bridge.ask did; twinsim.neural imports its train/evaluate eagerly)
    "twinsim.bridge",
    "twinsim.envs",
)


def _loaded_after(code: str) -> list[str]:
    """Heavy modules (and numpy) in sys.modules after running ``code`` in a fresh python."""
    probe = (
        f"{code}\nimport sys\nprint(sorted(m for m in {(*HEAVY, 'numpy')!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return eval(out.stdout.strip().splitlines()[-1])  # a printed list of names


def test_cli_help_imports_no_heavy_library():
    code = "from twinsim.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass"
    assert _loaded_after(code) == []


def test_families_command_imports_numpy_at_most():
    code = "import io, contextlib\nfrom twinsim.cli import main\n"
    code += "with contextlib.redirect_stdout(io.StringIO()):\n    main(['families'])"
    assert set(_loaded_after(code)) <= {"numpy"}


def test_pybullet_banner_is_silenced():
    out = subprocess.run(
        [sys.executable, "-c", "import twinsim.sim.world.world"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "pybullet build time" not in out.stdout + out.stderr


def _sim_modules() -> dict[str, Path]:
    mods = {}
    for path in (ROOT / "sim").rglob("*.py"):
        parts = list(path.relative_to(ROOT / "sim").with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(["twinsim.sim", *parts])] = path
    return mods


def test_sim_has_no_import_cycles():
    """Every import counts, function-level ones included (a lazy import is still a cycle)."""
    mods = _sim_modules()
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            deps |= {t for t in targets if t in mods and t != name}
        graph[name] = deps
    # a package __init__ -> its own children is how lazy faces work, not a cycle
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                cycles.append(" -> ".join([*trail[trail.index(dep) :], dep]))
            elif dep not in state:
                visit(dep, [*trail, dep])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, "\n".join(cycles)


@pytest.mark.parametrize("face", FACES)
def test_package_faces_say_what_they_offer_and_resolve(face):
    pkg = importlib.import_module(face)
    assert pkg.__doc__ and len(pkg.__doc__.strip()) > 40
    children = {m.name for m in pkgutil.iter_modules(pkg.__path__)}
    clash = set(pkg.__all__) & children
    assert not clash, f"{face}: {clash} would be both a sub-module and an exported name"
    if face == "twinsim":
        return  # its names reach torch; test_package covers them
    for name in pkg.__all__:
        assert getattr(pkg, name) is not None


def test_sim_subfolders_are_packages_listed_in_pyproject():
    listed = (ROOT / "pyproject.toml").read_text()
    for init in (ROOT / "sim").rglob("__init__.py"):
        rel = init.parent.relative_to(ROOT / "sim").parts
        name = ".".join(["twinsim.sim", *rel])
        assert f'"{name}"' in listed, f"{name} missing from pyproject packages"


def test_families_is_a_package_and_family_names_a_function():
    import twinsim.sim
    import twinsim.sim.families as fam

    import twinsim

    assert twinsim.sim.families is fam and callable(twinsim.sim.family_names)
    assert twinsim.family_names() == fam.family_names()
    from twinsim.sim import simulate
    from twinsim.sim.simulation import simulate as simulate_function

    assert simulate is simulate_function
