"""DatasetConfig: the typed, validated settings of ``twinsim generate``.

Only the *data-determining* fields (everything except ``workers``, ``backend`` and
``ray_address``) enter :meth:`DatasetConfig.identity`; two runs with equal identities write
byte-identical datasets, which is what ``--resume`` checks before continuing a directory.
"""

from __future__ import annotations

import argparse
import colorsys
import dataclasses
import math
import os
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, get_args

from twinsim.sim.budget import max_workers
from twinsim.sim.errors import SimError, SpecError, UnknownNameError
from twinsim.sim.labels import ALL_LABELS, DEFAULT_LABELS, resolve_labels
from twinsim.sim.render.registry import RENDERERS
from twinsim.sim.spec import IMAGE_SIDE, SHAPES, SceneSpec

__all__ = [
    "BACKENDS",
    "CLI_OPTIONS",
    "HUES",
    "SPLITS",
    "CliOption",
    "DatasetConfig",
    "DatasetError",
    "OodRule",
    "add_arguments",
]


class DatasetError(SimError, ValueError):
    """A dataset cannot be generated, resumed or read; the message says why and what to do."""


Backend = Literal["local", "ray"]
BACKENDS: tuple[str, ...] = get_args(Backend)
SPLITS: tuple[str, ...] = ("train", "val", "test", "ood")
# Named hue bins (degrees, half-open) for the ``color:NAME`` OOD rule.
HUES: dict[str, tuple[float, float]] = {
    "red": (-30.0, 30.0),
    "yellow": (30.0, 90.0),
    "green": (90.0, 150.0),
    "cyan": (150.0, 210.0),
    "blue": (210.0, 270.0),
    "magenta": (270.0, 330.0),
}
_OOD_HELP = "shape:NAME, color:NAME, family:NAME, mass>KG or mass<KG"


@dataclass(frozen=True)
class OodRule:
    """A held-out rule: scenes it matches go to the ``ood`` split instead of train/val/test.

    Forms (``text``): ``shape:cylinder`` (any body of that shape), ``color:red`` (any body whose
    colour hue falls in the named bin of :data:`HUES`, saturation >= 0.25), ``family:collide``
    (the whole family), ``mass>2.5`` / ``mass<0.2`` (any dynamic body, mass in kg).
    """

    text: str

    def __post_init__(self) -> None:
        kind, _, value = self._parts()
        if kind == "shape" and value not in SHAPES:
            raise UnknownNameError("ood shape", value, SHAPES)
        if kind == "color" and value not in HUES:
            raise UnknownNameError("ood color", value, HUES)
        if kind == "mass":
            try:
                if not math.isfinite(float(value)):
                    raise ValueError(value)
            except ValueError:
                raise SpecError(
                    "ood", self.text, f"mass needs a number; forms: {_OOD_HELP}"
                ) from None
        if kind == "family":
            from twinsim.sim.families import family_names

            if value not in family_names():
                raise UnknownNameError("ood family", value, family_names())

    def _parts(self) -> tuple[str, str, str]:
        for op in (":", ">", "<"):
            if op in self.text:
                kind, value = self.text.split(op, 1)
                kind, value = kind.strip(), value.strip()
                ok = (op == ":" and kind in ("shape", "color", "family")) or (
                    op in "<>" and kind == "mass"
                )
                if ok:
                    return kind, op, value
        raise SpecError("ood", self.text, f"unknown OOD rule; forms: {_OOD_HELP}")

    def matches(self, spec: SceneSpec) -> bool:
        """True when ``spec`` belongs to the held-out (ood) split."""
        kind, op, value = self._parts()
        if kind == "family":
            return spec.family == value
        if kind == "shape":
            return any(o.shape == value for o in spec.objects)
        if kind == "mass":
            limit = float(value)
            dyn = [o.mass for o in spec.objects if o.mass > 0]
            return any(m > limit if op == ">" else m < limit for m in dyn)
        lo, hi = HUES[value]
        for o in spec.objects:
            h, _, s = colorsys.rgb_to_hls(*o.color[:3])
            deg = h * 360.0
            deg = deg - 360.0 if deg >= 330.0 else deg
            if s >= 0.25 and lo <= deg < hi:
                return True
        return False


@dataclass(frozen=True)
class DatasetConfig:
    """Settings of one dataset.

    Attributes:
        families: scene families (``twinsim.sim.family_names()``); scene i uses
            ``families[i % len(families)]``.
        scenes: number of scene seeds; a scene stored as an impossible-twin pair gives 2 clips.
        frames: frames per clip T (>= 2); the spec's duration is set to ``(T - 1) / fps``.
        size: image width and height in pixels.
        seed: dataset seed; scene i's seed, split and twin status derive from (seed, i).
        labels: stored labels (names of ``twinsim.sim.ALL_LABELS``).
        renderer: ``tiny`` or ``pyrender``.
        impossible_fraction: fraction of scenes of VoE-capable families stored as
            possible + impossible pairs, kinds balanced over the family's violations.
        split_fractions: train / val / test fractions (sum 1) of the non-OOD scenes.
        ood: optional :class:`OodRule` text; matching scenes form the ``ood`` split.
        shard_size: scenes per shard (pairs count once).
        previews: also write an mp4 preview per clip.
        max_attempts: engine attempts per scene (each retry uses the next sub-seed).
        workers: local processes (None: ``os.cpu_count()``; at most 8 per core, or 32); not
            part of the identity.
        backend: ``local`` (process pool) or ``ray``; not part of the identity.
        ray_address: Ray cluster address (None: ``RAY_ADDRESS`` or a local Ray).
    """

    families: tuple[str, ...]
    scenes: int
    frames: int
    size: int = 64
    seed: int = 0
    labels: tuple[str, ...] = DEFAULT_LABELS
    renderer: str = "tiny"
    impossible_fraction: float = 0.0
    split_fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
    ood: str | None = None
    shard_size: int = 64
    previews: bool = False
    max_attempts: int = 4
    workers: int | None = None
    backend: Backend = "local"
    ray_address: str | None = None

    def __post_init__(self) -> None:
        from twinsim.sim.families import family_names

        valid = family_names()
        if not self.families:
            raise SpecError("families", self.families, f"need at least one of {valid}")
        for f in self.families:
            if f not in valid:
                raise UnknownNameError("family", f, valid)
        if len(set(self.families)) != len(self.families):
            raise SpecError("families", self.families, "families must not repeat")
        chosen = resolve_labels(self.labels)
        # Canonical order so that equal selections give equal identities.
        object.__setattr__(self, "labels", tuple(n for n in ALL_LABELS if n in chosen))
        if not self.labels:
            raise SpecError("labels", self.labels, f"need at least one of {ALL_LABELS}")
        _int_range("scenes", self.scenes, 1, 10**9)
        _int_range("frames", self.frames, 2, 100_000)
        _int_range("size", self.size, *IMAGE_SIDE)
        _int_range("seed", self.seed, 0, 2**63 - 1)
        _int_range("shard_size", self.shard_size, 1, 10**6)
        _int_range("max_attempts", self.max_attempts, 1, 100)
        if self.renderer not in RENDERERS:
            raise UnknownNameError("renderer", self.renderer, RENDERERS)
        if not 0.0 <= self.impossible_fraction <= 1.0:
            raise SpecError("impossible_fraction", self.impossible_fraction, "must lie in [0, 1]")
        fr = tuple(float(x) for x in self.split_fractions)
        if (
            len(fr) != 3
            or not all(math.isfinite(x) and x >= 0 for x in fr)
            or abs(sum(fr) - 1) > 1e-6
        ):
            raise SpecError(
                "split_fractions", self.split_fractions, "three fractions >= 0 summing to 1"
            )
        object.__setattr__(self, "split_fractions", fr)
        if self.ood is not None:
            OodRule(self.ood)
        if self.workers is not None:
            top = max_workers() if self.backend == "local" else 4096
            _int_range("workers", self.workers, 1, top)
        if self.previews and "rgb" not in self.labels:
            raise SpecError("previews", True, "mp4 previews need the 'rgb' label")
        if self.backend not in BACKENDS:
            raise UnknownNameError("backend", self.backend, BACKENDS)

    @property
    def ood_rule(self) -> OodRule | None:
        """The parsed OOD rule, if any."""
        return OodRule(self.ood) if self.ood else None

    @property
    def num_workers(self) -> int:
        """Worker processes / Ray tasks in flight."""
        return self.workers or os.cpu_count() or 1

    def identity(self) -> dict[str, Any]:
        """The data-determining settings (JSON-ready): equal identity => identical bytes."""
        skip = {"workers", "backend", "ray_address"}
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.name not in skip:
                v = getattr(self, f.name)
                out[f.name] = list(v) if isinstance(v, tuple) else v
        return out

    @classmethod
    def from_identity(cls, data: dict[str, Any], **run: Any) -> DatasetConfig:
        """Rebuild a config from :meth:`identity` plus run-only settings (workers, backend)."""
        kw = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**kw, **run)

    def command_line(self) -> str:
        """The canonical ``twinsim generate`` command reproducing this dataset (no run options).

        Built from :data:`CLI_OPTIONS`, the table the ``generate`` parser is built from, so
        every data-determining setting appears (parsing it back gives an equal identity).
        """
        parts = ["twinsim generate"]
        for opt in CLI_OPTIONS:
            if opt.identity:
                parts += opt.render(getattr(self, opt.field))
        return " ".join([*parts, "--out DIR"])

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> DatasetConfig:
        """The config a ``generate`` command line parsed by :func:`add_arguments` asks for."""
        return cls(**{opt.field: getattr(args, opt.field) for opt in CLI_OPTIONS})


def _csv(text: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in text.split(",") if s.strip())


def _fractions(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(s) for s in _csv(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected TRAIN,VAL,TEST fractions, got {text!r}"
        ) from None


@dataclass(frozen=True)
class CliOption:
    """One ``twinsim generate`` flag: the :class:`DatasetConfig` field it sets and how."""

    field: str
    help: str
    parse: Callable[[str], Any] | None = str  # None: a switch (store_true)
    required: bool = False
    identity: bool = True  # data-determining: part of command_line()

    @property
    def flag(self) -> str:
        return "--" + {"split_fractions": "splits"}.get(self.field, self.field).replace("_", "-")

    def render(self, value: Any) -> list[str]:
        """This option's words in a command line for ``value`` (none when it is unset)."""
        if self.parse is None:
            return [self.flag] if value else []
        if value is None:
            return []
        if isinstance(value, tuple):
            text = ",".join(repr(v) if isinstance(v, float) else str(v) for v in value)
        else:
            text = repr(value) if isinstance(value, float) else str(value)
        return [self.flag, shlex.quote(text)]


_DEFAULTS = {f.name: f.default for f in dataclasses.fields(DatasetConfig)}
CLI_OPTIONS: tuple[CliOption, ...] = (
    CliOption("families", "comma-separated family names (twinsim families)", _csv, True),
    CliOption("scenes", "number of scenes (seeds)", int, True),
    CliOption("frames", "frames per clip T (>= 2)", int, True),
    CliOption("size", "image width = height in px", int),
    CliOption("seed", "dataset seed", int),
    CliOption(
        "labels", f"comma-separated labels to store, or 'all' of {', '.join(ALL_LABELS)}", _csv
    ),
    CliOption("renderer", "renderer: " + " or ".join(RENDERERS)),
    CliOption(
        "impossible_fraction",
        "fraction of VoE-capable scenes stored as possible+impossible twin pairs",
        float,
    ),
    CliOption("split_fractions", "train,val,test fractions", _fractions),
    CliOption("ood", f"held-out rule for an 'ood' split: {_OOD_HELP}"),
    CliOption("shard_size", "scenes per shard", int),
    CliOption("max_attempts", "engine attempts per scene", int),
    CliOption("previews", "write an mp4 preview per clip", None),
    CliOption("workers", "processes (default: cores)", int, identity=False),
    CliOption("backend", "where scenes run: " + " or ".join(BACKENDS), identity=False),
    CliOption("ray_address", "Ray cluster address (ray backend)", identity=False),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add one flag per :data:`CLI_OPTIONS` entry, defaults taken from :class:`DatasetConfig`."""
    for opt in CLI_OPTIONS:
        if opt.parse is None:
            parser.add_argument(opt.flag, dest=opt.field, action="store_true", help=opt.help)
            continue
        default = _DEFAULTS[opt.field]
        shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
        parser.add_argument(
            opt.flag,
            dest=opt.field,
            metavar=opt.flag.removeprefix("--").replace("-", "_").upper(),
            type=opt.parse,
            required=opt.required,
            default=None if opt.required else default,
            help=opt.help if opt.required or default is None else f"{opt.help} ({shown})",
        )


def _int_range(name: str, value: Any, lo: int, hi: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise SpecError(name, value, f"must be an integer in [{lo}, {hi}]")
