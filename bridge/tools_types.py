"""The catalogue's types: per-call limits, tool entries, the body argument, the error."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Label = Literal[
    "rgb", "depth", "segmentation", "objects", "camera", "contacts", "flow", "visibility"
]
_DEFAULT_LABELS: tuple[str, ...] = ("rgb", "segmentation", "objects", "camera", "contacts")


class ToolError(Exception):
    """A tool call that failed for a reason the caller can fix; the message says how."""


@dataclass(frozen=True)
class Limits:
    """Per-call limits every tool enforces (a request over a limit is refused, not truncated)."""

    max_frames: int = 240
    max_size: int = 256
    max_horizon: int = 64
    max_objects: int = 16
    max_seconds: float = 120.0

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            if getattr(self, f.name) <= 0:
                raise ValueError(f"Limits.{f.name} must be > 0, got {getattr(self, f.name)}")


@dataclass(frozen=True)
class Cap:
    """Marks a parameter bounded by a :class:`Limits` field (``le`` or ``max_length``)."""

    limit: str
    how: str = "le"


@dataclass(frozen=True)
class Tool:
    """A catalogue entry: the function, its argument model and its JSON Schema."""

    name: str
    description: str
    fn: Callable[..., dict[str, Any]]
    model: type[BaseModel]
    input_schema: dict[str, Any]
    caps: dict[str, str] = dataclasses.field(default_factory=dict)  # parameter -> Limits field


class ObjectArg(BaseModel):
    """One body for build_scene."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
    shape: Literal["sphere", "box", "cylinder", "capsule"]
    size: Annotated[
        list[Annotated[float, Field(gt=0, le=5)]],
        Field(
            min_length=1,
            max_length=3,
            description="metres: sphere [radius]; box [half_x, half_y, half_z]; "
            "cylinder/capsule [radius, length]",
        ),
    ]
    position: Annotated[
        list[float], Field(min_length=3, max_length=3, description="x, y, z (m), z up")
    ]
    color: str = Field("red", description="a colour word (red, blue, green, ...)")
    linear_velocity: Annotated[list[float], Field(min_length=3, max_length=3)] = [0.0, 0.0, 0.0]
    mass: Annotated[float, Field(ge=0, le=1000, description="kg; 0 makes the body static")] = 1.0
    restitution: Annotated[float, Field(ge=0, le=1)] = 0.5
    friction: Annotated[float, Field(ge=0, le=10)] = 0.5
