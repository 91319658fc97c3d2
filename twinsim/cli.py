"""The ``twinsim`` command line. Each command group lives in its own module under
``twinsim.commands`` and registers its sub-commands here."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from twinsim import __version__
from twinsim.commands import (
    bridge_cmds,
    data_cmds,
    env_cmds,
    neural_cmds,
    planner_cmds,
    sheet_cmds,
    sim_cmds,
)
from twinsim.sim.errors import UserError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="twinsim",
        description="Hybrid neural + physics-engine simulator: labelled synthetic scenes and "
        "datasets, a neural video world model, a hybrid predictor (frames -> scene -> engine), "
        "gymnasium environments and a rollout API and tools for planners. "
        "Start with `twinsim demo`; `twinsim COMMAND --help` for each command.",
    )
    parser.add_argument("--version", action="version", version=f"twinsim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (
        sim_cmds,
        data_cmds,
        neural_cmds,
        bridge_cmds,
        planner_cmds,
        env_cmds,
        sheet_cmds,
    ):
        module.register(sub)
    return parser


def _subparser(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser:
    for action in parser._subparsers._group_actions:  # argparse keeps sub-parsers here
        if isinstance(action, argparse._SubParsersAction):
            return action.choices[command]
    return parser


# UserError: twinsim's own input errors; ValueError: numpy/torch/library argument checks.
_USER_ERRORS = (
    UserError,
    ValueError,
    FileNotFoundError,
    NotADirectoryError,
    IsADirectoryError,
    PermissionError,
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code (2 for bad input, with a one-line error)."""
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # name them under the sub-command's own usage, not the top-level one
        _subparser(parser, args.command).error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except _USER_ERRORS as exc:
        # User errors (bad input, file, folder or setting): one clear line, no traceback.
        # A KeyError, TypeError, ... is a bug and keeps its traceback; so does any error
        # with TWINSIM_DEBUG=1.
        if os.environ.get("TWINSIM_DEBUG"):
            raise
        print(f"twinsim {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # disk full, read-only file system, ...: the OS's reason, no traceback
        where = f": {exc.filename}" if exc.filename else ""
        print(f"twinsim {args.command}: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
