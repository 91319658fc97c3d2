"""The offline planner's grammar: accepted forms parse to the right request, others are refused
with what was recognised and the accepted forms (it never pretends to understand)."""

from __future__ import annotations

import pytest
from twinsim.bridge.grammar import (
    Drop,
    FamilyScene,
    Motion,
    PlannerError,
    Tower,
    parse,
)
from twinsim.bridge.planner import SceneLimits, plan_scene


def test_drop_onto_box():
    r = parse("drop a red ball from 2 m onto a blue box")
    assert isinstance(r.command, Drop) and r.question is None
    assert r.command.height == 2.0
    assert (r.command.obj.shape, r.command.obj.color) == ("sphere", "red")
    assert (r.command.target.shape, r.command.target.color) == ("box", "blue")


@pytest.mark.parametrize(
    ("text", "height"),
    [
        ("Drop a red ball from 2m", 2.0),
        ("drop the ball from 150 cm", 1.5),
        ("please drop a small rubber ball from a height of 0.5 metres", 0.5),
        ("drop a ball onto a box from 1.2 meters", 1.2),
    ],
)
def test_drop_units_and_order(text, height):
    r = parse(text)
    assert isinstance(r.command, Drop)
    assert r.command.height == pytest.approx(height)


def test_modifiers_sizes_and_materials():
    r = parse("drop a 20 cm green wooden ball from 1 m")
    obj = r.command.obj
    assert obj.size == pytest.approx(0.1)  # 20 cm across -> 10 cm radius
    assert (obj.color, obj.material) == ("green", "wooden")
    assert parse("drop a tiny ball from 1 m").command.obj.size == pytest.approx(0.04)


def test_motions_speeds_angles():
    r = parse("throw an orange ball at 4 m/s at 60 degrees")
    assert r.command == Motion("throw", r.command.obj, 4.0, None, 60.0)
    r = parse("roll a green ball at 2 meters per second into a blue box")
    assert r.command.speed == pytest.approx(2.0) and r.command.target.color == "blue"
    assert parse("push a large box at 36 km/h").command.speed == pytest.approx(10.0)


def test_towers_and_fall_question():
    r = parse("will this tower of 5 boxes fall?")
    assert r.command == Tower(5, r.command.block, None, False)
    assert r.question.kind == "fall"
    r = parse("will a tower of six blocks, each shifted 4 cm, fall")
    assert (r.command.count, r.command.offset) == (6, pytest.approx(0.04))
    assert parse("a leaning tower of 4 cubes").command.leaning


def test_family_with_seed_and_violation():
    assert parse("occlusion seed 3 with vanish").command == FamilyScene("occlusion", 3, "vanish")
    assert parse("render a screen scene with a change color violation").command == FamilyScene(
        "screen", 0, "change_color"
    )


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("where does the ball land?", "land"),
        ("where does it come to rest if I roll a ball at 1 m/s", "rest"),
        ("when does the ball hit the floor if I drop a ball from 3 m", "hit"),
        ("how high does it bounce if I drop a rubber ball from 1 m", "bounce"),
        ("drop a ball from 1 m. how high does it bounce?", "bounce"),
        ("how far does it go if I push a box at 2 m/s", "distance"),
        ("what happens if I push a box at 2 m/s", "happen"),
        ("what happens next in clip.mp4, 16 frames", "next"),
        ("predict 8 frames after 'my clip.mov'", "next"),
    ],
)
def test_questions(text, kind):
    assert parse(text).question.kind == kind


def test_video_question_keeps_path_and_frames():
    q = parse("what happens next in data/Clip_01.MP4, 16 frames").question
    assert (q.video, q.frames) == ("data/Clip_01.MP4", 16)


@pytest.mark.parametrize(
    ("text", "stuck"),
    [
        ("drop a red ball gently from 2 m", "gently"),
        ("make me a sandwich", "sandwich"),
        ("explode the blue box", "explode"),
        ("drop a red ball", "ended too early"),
    ],
)
def test_refusals_say_what_was_understood_and_the_forms(text, stuck):
    with pytest.raises(PlannerError) as info:
        parse(text)
    msg = str(info.value)
    assert stuck in msg
    assert "not a language model" in msg
    assert "drop OBJECT from HEIGHT" in msg  # the accepted forms are listed
    if "red" in text:
        assert "colour red" in info.value.understood


def test_semantic_refusals():
    with pytest.raises(PlannerError, match="only a throw takes an angle"):
        parse("roll a ball at 30 degrees")
    with pytest.raises(PlannerError, match="two colors given"):
        parse("drop a red blue ball from 1 m")
    with pytest.raises(PlannerError, match="empty"):
        parse("   ")
    with pytest.raises(PlannerError, match="too long"):
        parse("drop a ball from 1 m " * 40)


def test_planned_scenes_are_valid_and_in_range():
    plan = plan_scene(parse("drop a red ball from 2 m onto a blue box"), SceneLimits(size=32))
    ball, box = plan.spec.object(plan.main), plan.spec.object(plan.target)
    assert ball.position[2] - ball.size[0] == pytest.approx(2.0, abs=1e-3)  # lowest point at 2 m
    assert box.position[2] == pytest.approx(box.size[2], abs=2e-3)  # resting on the floor
    assert plan.spec.cameras[0].width == 32
    with pytest.raises(PlannerError, match="above"):
        plan_scene(parse("drop a ball from 0.1 m onto a large box"))
    with pytest.raises(PlannerError, match="drop height"):
        plan_scene(parse("drop a ball from 500 m"))
    with pytest.raises(PlannerError, match="object limit"):
        plan_scene(parse("a tower of 40 boxes"))
    with pytest.raises(PlannerError, match="do not stack"):
        plan_scene(parse("a tower of 3 balls"))
    with pytest.raises(PlannerError, match="violation"):
        plan_scene(parse("drop seed 1 with vanish"))  # drop has no vanish twin


def test_planner_error_pickles_with_its_fields():
    import pickle

    with pytest.raises(PlannerError) as info:
        parse("paint the sky")
    back = pickle.loads(pickle.dumps(info.value))
    assert str(back) == str(info.value) and back.understood == info.value.understood
