"""The parse tree of a worded request -> its typed request (lark transformer)."""

from __future__ import annotations

import re

from lark import Token, Transformer, v_args
from twinsim.bridge.grammar_types import (
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
    SHAPE_WORDS,
    SIZE_WORDS,
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
