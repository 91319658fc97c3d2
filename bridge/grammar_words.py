"""The offline planner's vocabulary: colour, shape, size and material words, units, forms."""

from __future__ import annotations

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
