"""``twinsim sheet FAMILY --seeds N``: a contact-sheet PNG (frames across, seeds down)."""

from __future__ import annotations

import argparse
from pathlib import Path

from twinsim.sim.render.registry import RENDERERS

__all__ = ["register"]


def _cmd_sheet(args: argparse.Namespace) -> int:
    from twinsim.sim.families.sheet import contact_sheet, save_png

    if not 1 <= args.seeds <= 200:
        raise ValueError(f"--seeds: invalid value {args.seeds}; must lie in [1, 200]")
    if not 1 <= args.frames <= 64:
        raise ValueError(f"--frames: invalid value {args.frames}; must lie in [1, 64]")
    if args.size is not None and not 8 <= args.size <= 1024:
        raise ValueError(f"--size: invalid value {args.size}; must lie in [8, 1024] pixels")
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    image = contact_sheet(
        args.family,
        seeds,
        frames=args.frames,
        size=args.size,
        renderer=args.renderer,
        impossible=args.impossible,
    )
    suffix = f"_{args.impossible}" if args.impossible else ""
    out = args.out or Path("sheets") / f"{args.family}{suffix}.png"
    print(save_png(image, out))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``sheet`` to the twinsim parser."""
    p = sub.add_parser(
        "sheet",
        help="write a contact-sheet PNG of a family (frames across, seeds down)",
        description="Simulate seeds FIRST..FIRST+N-1 of FAMILY and tile evenly spaced frames "
        "of each into one PNG, one row per seed, for a person to look at.",
    )
    p.add_argument("family", help="scenario family (see `twinsim families`)")
    p.add_argument("--seeds", type=int, default=4, help="rows: number of seeds (default 4)")
    p.add_argument("--first-seed", type=int, default=0, help="first seed (default 0)")
    p.add_argument("--frames", type=int, default=8, help="columns: frames per seed (default 8)")
    p.add_argument("--size", type=int, default=None, help="square frame size (default 64)")
    p.add_argument("--renderer", choices=RENDERERS, default="tiny", help="rendering backend")
    p.add_argument("--impossible", metavar="KIND", default=None, help="render impossible twins")
    p.add_argument("--out", type=Path, default=None, help="PNG path (default sheets/FAMILY.png)")
    p.set_defaults(func=_cmd_sheet)
