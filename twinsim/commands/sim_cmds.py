"""Engine commands: ``twinsim families``, ``twinsim sample``, ``twinsim render``."""

from __future__ import annotations

import argparse
from pathlib import Path

from twinsim.sim.labels import ALL_LABELS, DEFAULT_LABELS
from twinsim.sim.render.registry import RENDERERS
from twinsim.sim.spec import VIOLATIONS, SceneSpec

__all__ = ["load_scene", "register"]


def _cmd_families(args: argparse.Namespace) -> int:
    from twinsim.sim.families import family_names

    for name in family_names():
        print(name)
    return 0


def _cmd_sample(args: argparse.Namespace) -> int:
    from twinsim.sim.families import sample_scene

    spec = sample_scene(args.family, args.seed, impossible=args.impossible)
    print(spec.to_json())
    return 0


def load_scene(source: str, seed: int = 0, impossible: str | None = None) -> SceneSpec:
    """A spec from a JSON file (``*.json`` or an existing file) or a sampled family scene.

    Raises:
        FileNotFoundError: a ``*.json`` path that does not exist.
        UnknownNameError: neither a file nor a family name (lists the families).
    """
    from twinsim.sim.families import sample_scene

    path = Path(source)
    if source.endswith(".json") or path.is_file():
        if not path.is_file():
            raise FileNotFoundError(f"spec file {source!r} does not exist")
        spec = SceneSpec.from_json(path.read_text())
        if impossible is not None:
            raise ValueError("--impossible applies to a FAMILY, not to a SPEC.json")
        return spec
    return sample_scene(source, seed, impossible=impossible)


def _cmd_render(args: argparse.Namespace) -> int:
    from twinsim.sim.fileio import prepare_output_dir
    from twinsim.sim.labels import resolve_labels
    from twinsim.sim.simulation import simulate
    from twinsim.sim.spec import with_image_size

    labels = resolve_labels(args.labels)  # every flag is checked before anything is written
    spec = load_scene(args.scene, args.seed, args.impossible)
    if args.size is not None:
        spec = with_image_size(spec, args.size, field="--size")
    out = args.out or Path("renders") / f"{spec.family or Path(args.scene).stem}_{spec.seed}"
    prepare_output_dir(out)  # fail before simulating, not after
    rollout = simulate(spec, renderer=args.renderer, labels=labels, progress=not args.quiet)
    folder = rollout.save(out)
    for name in ("preview.mp4", "arrays.npz", "labels.json"):
        if (folder / name).is_file():
            print(folder / name)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add this group's sub-commands to the twinsim parser."""
    p = sub.add_parser("families", help="list the scenario families")
    p.set_defaults(func=_cmd_families)

    p = sub.add_parser("sample", help="print a sampled scene spec as JSON")
    p.add_argument("family", help="scenario family (see `twinsim families`)")
    p.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    p.add_argument(
        "--impossible",
        metavar="KIND",
        default=None,
        help=f"sample the impossible twin with this violation: {', '.join(VIOLATIONS)}",
    )
    p.set_defaults(func=_cmd_sample)

    p = sub.add_parser(
        "render",
        help="simulate a scene and write preview.mp4, arrays.npz and labels.json",
        description="Render SPEC.json or a sampled FAMILY scene; prints the files written.",
    )
    p.add_argument("scene", metavar="SPEC.json|FAMILY", help="a spec file or a family name")
    p.add_argument("--out", type=Path, default=None, help="output folder (default renders/...)")
    p.add_argument("--seed", type=int, default=0, help="sampling seed for a FAMILY (default 0)")
    p.add_argument("--impossible", metavar="KIND", default=None, help="violation kind (FAMILY)")
    p.add_argument("--renderer", choices=RENDERERS, default="tiny", help="rendering backend")
    p.add_argument(
        "--labels",
        default=None,
        help=f"CSV of labels or 'all' (default {','.join(DEFAULT_LABELS)}); "
        f"valid: {', '.join(ALL_LABELS)}",
    )
    p.add_argument("--size", type=int, default=None, help="square image size in pixels")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_render)
