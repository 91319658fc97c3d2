"""Dataset commands: ``twinsim generate`` and ``twinsim verify``."""

from __future__ import annotations

import argparse
import sys

from twinsim.sim.datasets.config import add_arguments

__all__ = ["register"]


def _generate(args: argparse.Namespace) -> int:
    from twinsim.sim.datasets.config import DatasetConfig
    from twinsim.sim.datasets.generate import generate_dataset

    config = DatasetConfig.from_args(args)
    summary = generate_dataset(
        config, args.out, resume=args.resume, progress=not args.quiet, argv=sys.argv
    )
    print(summary)
    return 0


def _verify(args: argparse.Namespace) -> int:
    from twinsim.sim.datasets.verify import verify_dataset

    report = verify_dataset(args.dir)
    print(report)
    return 0 if report.ok else 1


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``generate`` and ``verify`` to the twinsim parser."""
    g = sub.add_parser(
        "generate",
        help="generate a sharded, labelled synthetic dataset",
        description="Simulate N scenes of the chosen families into a sharded dataset "
        "(DIR/<split>/shard-NNNNN/*.npy + shard.json, DIR/manifest.json, DIR/README.md). "
        "Same settings => byte-identical data, whatever --workers or --backend.",
    )
    g.add_argument("--out", required=True, help="output directory DIR")
    add_arguments(g)
    g.add_argument("--resume", action="store_true", help="finish an interrupted run in DIR")
    g.add_argument("--quiet", action="store_true", help="no progress bar")
    g.set_defaults(func=_generate)

    v = sub.add_parser(
        "verify",
        help="check a dataset's counts, shapes, dtypes and checksums",
        description="Check DIR against its manifest; prints each problem, exit 1 if any.",
    )
    v.add_argument("dir", help="dataset directory")
    v.set_defaults(func=_verify)
