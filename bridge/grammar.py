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
from functools import cache

from lark import Lark
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, VisitError
from twinsim.bridge.grammar_tree import _ToRequest
from twinsim.bridge.grammar_types import (
    Command,  # noqa: F401 (re-exported: the union of command types)
    Drop,
    FamilyScene,
    Motion,
    ObjectPhrase,
    PlannerError,
    Question,
    Request,
    Tower,
)
from twinsim.bridge.grammar_words import (
    _LENGTH_UNITS,
    _NUMBER_WORDS,
    _SPEED_UNITS,
    COLORS,
    FORMS,
    MATERIALS,
    SHAPE_WORDS,
    SIZE_WORDS,
    VIDEO_SUFFIXES,
)

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
