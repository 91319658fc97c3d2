"""Dataset commands: ``twinsim generate`` and ``twinsim verify``."""

from __future__ import annotations

import argparse
import sys

__all__ = ["register"]


def _csv(text: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in text.split(",") if s.strip())


def _fractions(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(s) for s in _csv(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected TRAIN,VAL,TEST fractions, got {text!r}"
        ) from None


def _generate(args: argparse.Namespace) -> int:
    from twinsim.sim.datasets.config import DatasetConfig
    from twinsim.sim.datasets.generate import generate_dataset

    config = DatasetConfig(
        families=_csv(args.families),
        scenes=args.scenes,
        frames=args.frames,
        size=args.size,
        seed=args.seed,
        labels=_csv(args.labels),
        renderer=args.renderer,
        impossible_fraction=args.impossible_fraction,
        split_fractions=args.splits,
        ood=args.ood,
        shard_size=args.shard_size,
        previews=args.previews,
        max_attempts=args.max_attempts,
        workers=args.workers,
        backend=args.backend,
        ray_address=args.ray_address,
    )
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
    g.add_argument("--families", required=True, help="comma-separated family names")
    g.add_argument("--scenes", type=int, required=True, help="number of scenes (seeds)")
    g.add_argument("--frames", type=int, required=True, help="frames per clip T (>= 2)")
    g.add_argument("--size", type=int, default=64, help="image width = height in px (64)")
    g.add_argument("--out", required=True, help="output directory DIR")
    g.add_argument("--seed", type=int, default=0, help="dataset seed (0)")
    g.add_argument("--workers", type=int, default=None, help="processes (default: cores)")
    g.add_argument("--backend", default="local", help="local (process pool) or ray")
    g.add_argument("--ray-address", default=None, help="Ray cluster address (ray backend)")
    g.add_argument("--renderer", default="tiny", help="tiny or pyrender")
    g.add_argument(
        "--labels",
        default="rgb,depth,segmentation,objects,camera",
        help="comma-separated labels to store, or 'all'",
    )
    g.add_argument(
        "--impossible-fraction",
        type=float,
        default=0.0,
        help="fraction of VoE-capable scenes stored as possible+impossible twin pairs",
    )
    g.add_argument(
        "--splits", type=_fractions, default=(0.8, 0.1, 0.1), help="train,val,test fractions"
    )
    g.add_argument(
        "--ood",
        default=None,
        help="held-out rule for an 'ood' split: shape:NAME, color:NAME, family:NAME, "
        "mass>KG or mass<KG",
    )
    g.add_argument("--shard-size", type=int, default=64, help="scenes per shard (64)")
    g.add_argument("--max-attempts", type=int, default=4, help="engine attempts per scene")
    g.add_argument("--previews", action="store_true", help="write an mp4 preview per clip")
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
