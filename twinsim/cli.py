"""The ``twinsim`` command line. Each command group lives in its own module under
``twinsim.commands`` and registers its sub-commands here."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from twinsim import __version__
from twinsim.commands import data_cmds, neural_cmds, sheet_cmds, sim_cmds

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="twinsim",
        description="Hybrid neural + physics-engine simulator: labelled synthetic scenes, "
        "datasets and a neural video world model.",
    )
    parser.add_argument("--version", action="version", version=f"twinsim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (sim_cmds, data_cmds, neural_cmds, sheet_cmds):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code (2 for bad input, with a one-line error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (ValueError, KeyError, FileNotFoundError, NotADirectoryError, PermissionError) as exc:
        # User errors (bad spec, unknown name, missing file): one clear line, no traceback.
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"twinsim {args.command}: error: {msg}", file=sys.stderr)
        return 2
    except OSError as exc:  # disk full, read-only file system, ...: the OS's reason, no traceback
        where = f": {exc.filename}" if exc.filename else ""
        print(f"twinsim {args.command}: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
