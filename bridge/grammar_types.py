"""What a worded request parses into, and the error for one that does not parse."""

from __future__ import annotations

from dataclasses import dataclass

from twinsim.bridge.grammar_words import FORMS


class PlannerError(ValueError):
    """A request the offline planner cannot parse or build.

    Attributes:
        understood: the words it recognised, e.g. ``["colour red", "shape ball"]``.
        forms: the forms it accepts (:data:`FORMS`).
    """

    def __init__(self, message: str, understood: list[str], forms: tuple[str, ...] = FORMS):
        self.message = message
        self.understood = understood
        self.forms = forms
        got = ", ".join(understood) if understood else "nothing I know"
        text = (
            f"{message}\nI recognised: {got}.\n"
            "The offline planner is a fixed grammar, not a language model; it accepts:\n  "
            + "\n  ".join(forms)
            + "\n(OBJECT: [size] [colour] [material] shape, e.g. 'a small red rubber ball'; "
            "for free wording use --llm openai)"
        )
        super().__init__(text)

    def __reduce__(self):  # rebuilt from its fields, so it crosses process boundaries
        return type(self), (self.message, self.understood, self.forms)


# -- parsed request types -------------------------------------------------------------------


@dataclass(frozen=True)
class ObjectPhrase:
    """An object as worded: ``shape`` is an engine shape; sizes are half sizes in metres."""

    shape: str
    word: str
    color: str | None = None
    size: float | None = None
    material: str | None = None

    def describe(self) -> str:
        words = [w for w in (self.color, self.material, self.word) if w]
        return " ".join(words)


@dataclass(frozen=True)
class Drop:
    """Release ``obj`` from rest with its lowest point ``height`` m above the floor."""

    obj: ObjectPhrase
    height: float
    target: ObjectPhrase | None = None


@dataclass(frozen=True)
class Motion:
    """Roll, throw or push ``obj`` at ``speed`` m/s (None: a default), optionally into ``target``."""

    verb: str  # "roll" | "throw" | "push"
    obj: ObjectPhrase
    speed: float | None = None
    target: ObjectPhrase | None = None
    angle: float | None = None  # degrees above the horizontal (throw)


@dataclass(frozen=True)
class Tower:
    """A tower of ``count`` blocks; each level shifted ``offset`` m sideways from the one below."""

    count: int
    block: ObjectPhrase
    offset: float | None = None
    leaning: bool = False


@dataclass(frozen=True)
class FamilyScene:
    """A scene sampled from a registered family (``twinsim.sim.sample_scene``)."""

    family: str
    seed: int = 0
    violation: str | None = None


Command = Drop | Motion | Tower | FamilyScene


@dataclass(frozen=True)
class Question:
    """What is asked about the rollout.

    kind: ``fall`` | ``land`` | ``rest`` | ``hit`` | ``bounce`` | ``distance`` | ``happen``
    | ``next`` (neural prediction from ``video``).
    """

    kind: str
    subject: ObjectPhrase | None = None  # None: "it", the main object
    target: ObjectPhrase | str | None = None  # an object or "floor"
    video: str | None = None
    frames: int | None = None


@dataclass(frozen=True)
class Request:
    """A parsed request: a scene to build and/or a question about it."""

    text: str
    command: Command | None
    question: Question | None
