"""The offline planner's grammar: worded requests parsed with lark into typed requests.

The grammar is small and documented (docs/bridge-planner.md); it is a parser, not a language
model. Text it cannot parse raises :class:`PlannerError`, which says what it recognised, where it
got stuck, what it expected there, and the forms it accepts.

Accepted forms (case-insensitive; a trailing ``?``, ``.`` or ``!`` is ignored)::

    drop a red ball from 2 m onto a blue box        roll a small green ball at 2 m/s into a box
    throw an orange ball at 4 m/s at 60 degrees     push a large box at 1.5 m/s
    a tower of 5 boxes [, each shifted 3 cm]         occlusion seed 3 with vanish
    will this tower of 5 boxes fall?                 where does the ball land if I throw it ...
    when does the ball hit the box if I drop ...     how high does the ball bounce if I drop ...
    what happens if I drop a ball from 1 m?          what happens next in clip.mp4, 16 frames
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, VisitError

__all__ = [
    "COLORS",
    "FORMS",
    "MATERIALS",
    "SHAPE_WORDS",
    "SIZE_WORDS",
    "Drop",
    "FamilyScene",
    "Motion",
    "ObjectPhrase",
    "PlannerError",
    "Question",
    "Request",
    "Tower",
    "parse",
]

# Colour words -> RGBA. Saturated, as the families' palette: they stand out on the light floor.
COLORS: dict[str, tuple[float, float, float, float]] = {
    "red": (0.85, 0.15, 0.15, 1.0),
    "blue": (0.15, 0.35, 0.85, 1.0),
    "green": (0.1, 0.6, 0.2, 1.0),
    "orange": (0.95, 0.5, 0.05, 1.0),
    "purple": (0.55, 0.2, 0.75, 1.0),
    "teal": (0.05, 0.6, 0.65, 1.0),
    "magenta": (0.85, 0.2, 0.6, 1.0),
    "pink": (0.95, 0.45, 0.65, 1.0),
    "brown": (0.35, 0.22, 0.1, 1.0),
    "yellow": (0.9, 0.8, 0.1, 1.0),
    "black": (0.08, 0.08, 0.08, 1.0),
    "white": (0.97, 0.97, 0.97, 1.0),
    "grey": (0.45, 0.45, 0.45, 1.0),
    "gray": (0.45, 0.45, 0.45, 1.0),
}
# Shape words (singular, plural) -> engine shape.
SHAPE_WORDS: dict[tuple[str, str], str] = {
    ("ball", "balls"): "sphere",
    ("sphere", "spheres"): "sphere",
    ("box", "boxes"): "box",
    ("cube", "cubes"): "box",
    ("block", "blocks"): "box",
    ("crate", "crates"): "box",
    ("cylinder", "cylinders"): "cylinder",
    ("can", "cans"): "cylinder",
    ("barrel", "barrels"): "cylinder",
    ("capsule", "capsules"): "capsule",
}
# Size words -> characteristic half size (radius / half edge) in metres.
SIZE_WORDS: dict[str, float] = {
    "tiny": 0.04,
    "small": 0.06,
    "medium": 0.1,
    "big": 0.15,
    "large": 0.15,
    "huge": 0.25,
}
# Material words -> (density kg/m^3, restitution, friction).
MATERIALS: dict[str, tuple[float, float, float]] = {
    "rubber": (1100.0, 0.8, 0.9),
    "bouncy": (1100.0, 0.85, 0.9),
    "wooden": (600.0, 0.35, 0.5),
    "wood": (600.0, 0.35, 0.5),
    "plastic": (950.0, 0.5, 0.4),
    "steel": (7800.0, 0.3, 0.4),
    "metal": (7800.0, 0.3, 0.4),
    "heavy": (5000.0, 0.3, 0.5),
    "light": (200.0, 0.5, 0.5),
    "foam": (60.0, 0.2, 0.8),
}
_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip
_LENGTH_UNITS = {
    "m": 1.0, "metre": 1.0, "metres": 1.0, "meter": 1.0, "meters": 1.0,
    "cm": 0.01, "centimetre": 0.01, "centimetres": 0.01, "centimeter": 0.01, "centimeters": 0.01,
    "mm": 0.001, "millimetre": 0.001, "millimetres": 0.001, "millimeter": 0.001,
    "millimeters": 0.001,
}  # fmt: skip
_SPEED_UNITS = {
    "m/s": 1.0, "mps": 1.0, "metres per second": 1.0, "meters per second": 1.0,
    "metre per second": 1.0, "meter per second": 1.0, "cm/s": 0.01, "km/h": 1 / 3.6,
    "kph": 1 / 3.6,
}  # fmt: skip
VIDEO_SUFFIXES = ("mp4", "mov", "avi", "webm", "mkv", "gif", "m4v")

# One line per accepted form; shown to users when a request does not parse.
FORMS: tuple[str, ...] = (
    "drop OBJECT from HEIGHT [onto OBJECT]            drop a red ball from 2 m onto a blue box",
    "roll|slide OBJECT [at SPEED] [into OBJECT]       roll a green ball at 2 m/s into a box",
    "throw OBJECT [at SPEED] [at ANGLE degrees]       throw an orange ball at 4 m/s at 60 degrees",
    "push OBJECT [at SPEED]                           push a large wooden box at 1.5 m/s",
    "[leaning] tower of N OBJECTS [, each shifted LENGTH]   a tower of 5 boxes, each shifted 3 cm",
    "FAMILY [seed N] [with VIOLATION]                 occlusion seed 3 with vanish",
    "will [this] TOWER fall                           will this tower of 5 boxes fall?",
    "where does OBJECT|it land|stop [if COMMAND]     where does the ball land if I throw it at 3 m/s",
    "when does OBJECT|it hit OBJECT|the floor [if COMMAND]",
    "how high does OBJECT|it bounce [if COMMAND]      how high does it bounce if I drop a ball from 1 m",
    "how far does OBJECT|it go [if COMMAND]",
    "what happens if COMMAND                          what happens if I push a box at 2 m/s",
    "COMMAND, then any question above                 drop a ball from 1 m. how high does it bounce?",
    "what happens next in VIDEO[, N frames]           what happens next in clip.mp4, 16 frames",
)


class PlannerError(ValueError):
    """A request the offline planner cannot parse or build.

    Attributes:
        understood: the words it recognised, e.g. ``["colour red", "shape ball"]``.
        forms: the forms it accepts (:data:`FORMS`).
    """

    def __init__(self, message: str, understood: list[str], forms: tuple[str, ...] = FORMS):
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


# -- the grammar ----------------------------------------------------------------------------


def _alts(words: list[str]) -> str:
    # longest first so a prefix never shadows a longer word
    return " | ".join(f'"{w}"i' for w in sorted(set(words), key=lambda w: (-len(w), w)))


def _grammar(families: list[str], violations: list[str]) -> str:
    singular = [s for s, _ in SHAPE_WORDS]
    plural = [p for _, p in SHAPE_WORDS]
    viol = " | ".join(f"/{v.replace('_', '[ _]')}/i" for v in violations)
    spaced = [
        re.escape(u).replace("\\ ", " ").replace(" ", r"\s+").replace("/", r"\/")
        for u in _SPEED_UNITS
    ]
    speed_units = " | ".join(f"/{u}/i" for u in sorted(spaced, key=lambda u: (-len(u), u)))
    return rf"""
start: command                          -> command_only
     | question                         -> question_only
     | question _cond command           -> question_if
     | command _join? question          -> command_question

_cond: "if"i _subject? | "when"i _subject?
_subject: "i"i | "you"i | "we"i
_join: "," | "." | ";" | "and"i | "then"i | "," "then"i | "." "then"i

command: _lead* _action
_lead: "please"i | "show"i | "me"i | "simulate"i | "render"i | "make"i | "create"i | "build"i
     | "generate"i | "i"i | "you"i | "we"i | "let"i "us"i
_action: drop | roll | throw | push | tower | family

drop: _drop_verb object drop_tail+
_drop_verb: "drop"i | "drops"i | "release"i
?drop_tail: height_from | onto
height_from: "from"i ("a"i "height"i "of"i)? length ("high"i | "up"i | "above"i _ground)?
onto: ("onto"i | "on"i | "into"i | "on"i "to"i | "on"i "top"i "of"i) object
_ground: "the"i? ("floor"i | "ground"i)

roll: ("roll"i | "slide"i | "send"i) (object | "it"i) motion_tail*
throw: ("throw"i | "toss"i | "launch"i) (object | "it"i) motion_tail*
push: ("push"i | "shove"i | "kick"i) (object | "it"i) motion_tail*
?motion_tail: at_speed | into | angle
at_speed: ("at"i | "with"i | "at"i "a"i "speed"i "of"i)? speed
into: ("into"i | "towards"i | "toward"i | "at"i | "against"i) object
angle: ("at"i | "at"i "an"i "angle"i "of"i)? NUMBER ("degrees"i | "degree"i | "deg"i | "°") ("up"i | "upwards"i)?

tower: tower_np tower_tail?
tower_np: ("a"i | "the"i | "this"i)? LEANING? "tower"i "of"i count plural_object
        | "stack"i ("of"i)? count plural_object
tower_tail: ","? ("with"i)? ("each"i _level?)? ("shifted"i | "offset"i | "moved"i) "by"i? length
_level: "one"i | "block"i | "box"i | "level"i | "layer"i
LEANING: "leaning"i | "wobbly"i | "crooked"i

family: ("a"i | "an"i | "the"i)? FAMILY ("scene"i | "scenario"i)? family_opt*
?family_opt: seed | violation
seed: ","? ("with"i)? "seed"i INT
violation: ","? ("with"i)? ("a"i | "an"i)? VIOLATION ("violation"i)?
FAMILY: {_alts(families)}
VIOLATION: {viol}

question: will_fall | where | when_hit | how_high | how_far | what_happens | what_next
will_fall: "will"i (tower_np tower_tail? | "it"i | "the"i? "tower"i) _fall
_fall: ","? ("fall"i | "topple"i | "collapse"i | "tip"i) ("over"i | "down"i)?
where: "where"i ("does"i | "will"i) subject (LAND | REST)
LAND: "land"i
REST: "stop"i | "end"i /\s+/ "up"i | "come"i /\s+/ "to"i /\s+/ "rest"i | "settle"i
when_hit: "when"i ("does"i | "will"i) subject ("hit"i | "touch"i | "reach"i | "land"i "on"i) hit_target
?hit_target: object | floor
floor: "the"i? ("floor"i | "ground"i)
how_high: "how"i "high"i ("does"i | "will"i) subject ("bounce"i | "go"i | "rise"i) ("back"i | "up"i)?
how_far: "how"i "far"i ("does"i | "will"i) subject ("go"i | "roll"i | "travel"i | "fly"i | "slide"i)
what_happens: "what"i ("happens"i | "will"i "happen"i)
what_next: "what"i ("happens"i | "will"i "happen"i) "next"i "in"i video frames_opt?
         | "predict"i ("the"i)? ("next"i)? count "frames"i ("of"i | "after"i | "in"i) video
frames_opt: ","? ("for"i)? ("the"i)? ("next"i)? count "frames"i
video: PATH
PATH: /"[^"]+"/ | /'[^']+'/ | /[^\s,;"']+\.({"|".join(VIDEO_SUFFIXES)})/i
subject: object | "it"i

object: _det? modifier* SHAPE
plural_object: modifier* SHAPES
_det: "a"i | "an"i | "the"i | "one"i | "this"i | "that"i | "my"i
?modifier: color | size_word | material | length
color: COLOR
size_word: SIZE
material: MATERIAL
COLOR: {_alts(list(COLORS))}
SIZE: {_alts(list(SIZE_WORDS))}
MATERIAL: {_alts(list(MATERIALS))}
SHAPE: {_alts(singular)}
SHAPES: {_alts(plural)}

count: INT | NUMWORD
NUMWORD: {_alts(list(_NUMBER_WORDS))}
length: NUMBER LENGTH_UNIT
LENGTH_UNIT: {_alts(list(_LENGTH_UNITS))}
speed: NUMBER SPEED_UNIT
SPEED_UNIT: {speed_units}
NUMBER: /\d+(\.\d+)?|\.\d+/
INT: /\d+/

%import common.WS
%ignore WS
"""


@cache
def _parser() -> Lark:
    from twinsim.sim import VIOLATIONS, family_names

    return Lark(
        _grammar(family_names(), list(VIOLATIONS)),
        parser="earley",
        lexer="dynamic",
        ambiguity="resolve",
        propagate_positions=False,
    )


def _unit(table: dict[str, float], word: str) -> float:
    return table[re.sub(r"\s+", " ", word.lower())]


@v_args(inline=True)
class _ToRequest(Transformer):
    """Parse tree -> typed request objects."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    # numbers
    def count(self, tok: Token) -> int:
        return int(tok) if tok.type == "INT" else _NUMBER_WORDS[tok.lower()]

    def length(self, num: Token, unit: Token) -> float:
        return float(num) * _unit(_LENGTH_UNITS, unit)

    def speed(self, num: Token, unit: Token) -> float:
        return float(num) * _unit(_SPEED_UNITS, unit)

    # objects
    def color(self, tok: Token) -> tuple[str, str]:
        return ("color", tok.lower())

    def size_word(self, tok: Token) -> tuple[str, float]:
        return ("size", SIZE_WORDS[tok.lower()])

    def material(self, tok: Token) -> tuple[str, str]:
        return ("material", tok.lower())

    def _object(self, word: str, plural: bool, mods: tuple) -> ObjectPhrase:
        fields: dict[str, object] = {}
        for mod in mods:
            if isinstance(mod, float):  # a length: the object's overall size (diameter / edge)
                mod = ("size", mod / 2)
            key, value = mod
            if key in fields:
                raise PlannerError(f"two {key}s given for one object: {self.text!r}", [])
            fields[key] = value
        word = word.lower()
        shape = next(s for (one, many), s in SHAPE_WORDS.items() if word in (one, many))
        if plural:
            word = next(one for one, many in SHAPE_WORDS if many == word)
        return ObjectPhrase(shape=shape, word=word, **fields)  # type: ignore[arg-type]

    def object(self, *items):
        return self._object(items[-1], False, items[:-1])

    def plural_object(self, *items):
        return self._object(items[-1], True, items[:-1])

    def subject(self, obj: ObjectPhrase | None = None) -> ObjectPhrase | None:
        return obj

    def floor(self) -> str:
        return "floor"

    # commands
    def height_from(self, h: float) -> tuple[str, float]:
        return ("height", h)

    def onto(self, obj: ObjectPhrase) -> tuple[str, ObjectPhrase]:
        return ("target", obj)

    def at_speed(self, v: float) -> tuple[str, float]:
        return ("speed", v)

    def into(self, obj: ObjectPhrase) -> tuple[str, ObjectPhrase]:
        return ("target", obj)

    def angle(self, num: Token) -> tuple[str, float]:
        return ("angle", float(num))

    def _tails(self, tails: tuple) -> dict:
        out: dict = {}
        for key, value in tails:
            if key in out:
                raise PlannerError(f"{key} given twice in {self.text!r}", [])
            out[key] = value
        return out

    def drop(self, obj: ObjectPhrase, *tails) -> Drop:
        kw = self._tails(tails)
        if "height" not in kw:
            raise PlannerError(f"a drop needs a height ('from 2 m'): {self.text!r}", [])
        return Drop(obj, kw["height"], kw.get("target"))

    def _motion(self, verb: str, obj: ObjectPhrase | None, tails: tuple) -> Motion:
        if obj is None or isinstance(obj, tuple):  # "it" with no antecedent: a default ball
            tails = (obj, *tails) if isinstance(obj, tuple) else tails
            obj = ObjectPhrase("sphere", "ball") if verb != "push" else ObjectPhrase("box", "box")
        kw = self._tails(tails)
        if verb != "throw" and "angle" in kw:
            raise PlannerError(f"only a throw takes an angle: {self.text!r}", [])
        return Motion(verb, obj, kw.get("speed"), kw.get("target"), kw.get("angle"))

    def roll(self, *items):
        return self._motion("roll", *self._split(items))

    def throw(self, *items):
        return self._motion("throw", *self._split(items))

    def push(self, *items):
        return self._motion("push", *self._split(items))

    @staticmethod
    def _split(items: tuple) -> tuple:
        if items and isinstance(items[0], ObjectPhrase):
            return items[0], items[1:]
        return None, items

    def tower_np(self, *items) -> Tower:
        leaning = any(isinstance(i, Token) and i.type == "LEANING" for i in items)
        count, block = [i for i in items if not isinstance(i, Token)]
        return Tower(count, block, None, leaning)

    def tower_tail(self, offset: float) -> float:
        return offset

    def tower(self, np_: Tower, offset: float | None = None) -> Tower:
        return Tower(np_.count, np_.block, offset, np_.leaning)

    def seed(self, tok: Token) -> tuple[str, int]:
        return ("seed", int(tok))

    def violation(self, tok: Token) -> tuple[str, str]:
        return ("violation", re.sub(r"\s+", "_", tok.lower()))

    def family(self, name: Token, *opts) -> FamilyScene:
        kw = self._tails(opts)
        return FamilyScene(name.lower(), kw.get("seed", 0), kw.get("violation"))

    def command(self, action):
        return action

    # questions
    def will_fall(self, *items) -> Question:
        tower = next((i for i in items if isinstance(i, Tower)), None)
        offset = next((i for i in items if isinstance(i, float)), None)
        if tower is not None and offset is not None:
            tower = Tower(tower.count, tower.block, offset, tower.leaning)
        return Question("fall", target=tower)  # type: ignore[arg-type]

    def where(self, subject, verb: Token) -> Question:
        return Question("land" if verb.type == "LAND" else "rest", subject=subject)

    def when_hit(self, subject, target) -> Question:
        return Question("hit", subject=subject, target=target)

    def how_high(self, subject) -> Question:
        return Question("bounce", subject=subject)

    def how_far(self, subject) -> Question:
        return Question("distance", subject=subject)

    def what_happens(self) -> Question:
        return Question("happen")

    def video(self, tok: Token) -> str:
        return tok.strip("\"'")

    def frames_opt(self, n: int) -> int:
        return n

    def what_next(self, *items) -> Question:
        video = next(i for i in items if isinstance(i, str))
        frames = next((i for i in items if isinstance(i, int)), None)
        return Question("next", video=video, frames=frames)

    def question(self, q: Question) -> Question:
        return q

    # the whole request
    def command_only(self, cmd) -> Request:
        return Request(self.text, cmd, None)

    def question_only(self, q: Question) -> Request:
        if q.kind == "fall" and isinstance(q.target, Tower):  # "will this tower of 5 boxes fall"
            return Request(self.text, q.target, Question("fall"))
        if q.kind == "next":
            return Request(self.text, None, q)
        if q.kind == "fall":
            raise PlannerError(
                f"which tower? say e.g. 'will a tower of 5 boxes fall': {self.text!r}", []
            )
        if q.kind == "happen":
            raise PlannerError(
                f"what happens when? say 'what happens if COMMAND': {self.text!r}", []
            )
        return Request(self.text, None, q)  # scene chosen from the question's subject

    def question_if(self, q: Question, cmd) -> Request:
        if q.kind == "next":
            raise PlannerError("'what happens next in VIDEO' takes no condition", [])
        return Request(self.text, cmd, q)

    def command_question(self, cmd, q: Question) -> Request:
        if q.kind == "next":
            raise PlannerError("'what happens next in VIDEO' stands on its own", [])
        if q.kind == "fall" and isinstance(q.target, Tower):
            raise PlannerError("give the tower once: 'will a tower of 5 boxes fall?'", [])
        return Request(self.text, cmd, q)


def _recognised(text: str) -> list[str]:
    """The known words and quantities in ``text``, for the reply to a request that did not parse."""
    from twinsim.sim import family_names

    found: list[str] = []
    lowered = text.lower()
    words = re.findall(r"[a-z_]+", lowered)
    shapes = {w: s for ws, s in SHAPE_WORDS.items() for w in ws}
    for w in words:
        if w in COLORS:
            found.append(f"colour {w}")
        elif w in shapes:
            found.append(f"shape {w} ({shapes[w]})")
        elif w in SIZE_WORDS:
            found.append(f"size {w}")
        elif w in MATERIALS:
            found.append(f"material {w}")
        elif w in family_names():
            verb = w in ("drop", "push", "tower")  # words that also start a command
            found.append(f"{w} (verb or family)" if verb else f"family {w}")
    for num, unit in re.findall(r"(\d+(?:\.\d+)?)\s*(m/s|km/h|cm/s|cm|mm|m)\b", lowered):
        kind = "speed" if "/" in unit else "length"
        found.append(f"{kind} {num} {unit}")
    return list(dict.fromkeys(found))


def _expected(parser: Lark, names: set[str]) -> list[str]:
    shown = []
    for name in sorted(names):
        try:
            pattern = parser.get_terminal(name).pattern
        except KeyError:
            continue
        if pattern.type == "str":
            shown.append(repr(pattern.value))
        elif name in {"COLOR", "SIZE", "MATERIAL", "SHAPE", "SHAPES", "FAMILY", "VIOLATION"}:
            shown.append(name.lower().replace("shapes", "plural shape"))
        else:
            shown.append(name.lower().replace("_", " "))
    return sorted(set(shown))


def parse(text: str) -> Request:
    """Parse one worded request.

    Raises:
        PlannerError: the text is not one of the accepted forms; the message says what was
            recognised, where parsing stopped, what was expected there, and lists the forms.
    """
    if not isinstance(text, str) or not text.strip():
        raise PlannerError("empty request", [])
    if len(text) > 500:
        raise PlannerError(f"request too long ({len(text)} characters; at most 500)", [])
    clean = text.strip().rstrip("?.! ").strip()
    parser = _parser()
    try:
        tree = parser.parse(clean)
        return _ToRequest(text.strip()).transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, PlannerError):
            err = exc.orig_exc
            raise PlannerError(str(err).split("\n", 1)[0], _recognised(text)) from None
        raise
    except UnexpectedInput as exc:
        if isinstance(exc, UnexpectedEOF):
            where = "the request ended too early"
            expected = exc.expected
        elif isinstance(exc, UnexpectedCharacters):
            col = exc.column - 1
            where = f"I got stuck at {clean[col : col + 20]!r} (character {col + 1})"
            expected = exc.allowed or set()
        else:
            where = "I could not parse it"
            expected = getattr(exc, "expected", set()) or set()
        wanted = _expected(parser, set(expected))
        hint = f"; expected one of: {', '.join(wanted)}" if wanted else ""
        raise PlannerError(
            f"I cannot read {text.strip()!r}: {where}{hint}.", _recognised(text)
        ) from None
