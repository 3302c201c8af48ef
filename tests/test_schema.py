import pytest

from vlprune.data.schema import parse_grade, validate_problem
from vlprune.errors import DataError

GOOD = {"question": "Which is a mammal?", "choices": ["wolf", "trout"], "answer": 0,
        "hint": "", "image": None, "grade": "grade3", "split": "train", "subject": "natural science"}


def check(raw, match):
    with pytest.raises(DataError, match=match) as info:
        validate_problem(raw, record_id="17", file="problems.json")
    assert str(info.value).startswith("problems.json: record '17'")
    return info.value


def test_valid_problem_is_normalised():
    rec = validate_problem(GOOD, record_id="17", file="problems.json")
    assert rec["grade"] == 3 and rec["image"] == "" and rec["answer"] == 0
    assert rec["id"] == "17" and rec["split"] == "train"


def test_absent_fields_are_unknown_and_empty_ones_empty():
    rec = validate_problem({**GOOD, "lecture": None}, record_id="17", file="problems.json")
    assert rec["hint"] == ""                      # present and empty: no context
    assert rec["topic"] is None and rec["skill"] is None and rec["lecture"] is None  # absent / null
    assert rec["subject"] == "natural science"
    rec = validate_problem({k: v for k, v in GOOD.items() if k != "grade"}, record_id="1", file=None)
    assert rec["grade"] is None
    # Fields that cannot be unknown stay "" when absent.
    assert rec["caption"] == "" and rec["source"] == ""


@pytest.mark.parametrize("question", ["", "   ", "\n"])
def test_empty_question(question):
    err = check({**GOOD, "question": question}, "the question is empty")
    assert err.field == "question"


@pytest.mark.parametrize("image", ["../../etc/passwd", "/etc/passwd", "a/../../b.png", "..\\..\\x.png"])
def test_image_path_that_escapes_the_folder(image):
    err = check({**GOOD, "image": image}, "image path .* (climbs out of the image folder|is absolute; it must "
                                          "be relative to the image folder)")
    assert err.field == "image"


def test_image_paths_inside_the_folder_are_fine():
    for image in ("image.png", "sub/image.png", "a/../image.png"):
        assert validate_problem({**GOOD, "image": image}, record_id="1", file=None)["image"] == image


def test_answer_outside_choices():
    err = check({**GOOD, "answer": 2}, "answer index 2 is outside the 2 choices")
    assert err.field == "answer"


@pytest.mark.parametrize("field", ["question", "choices", "answer"])
def test_missing_required_field(field):
    raw = {k: v for k, v in GOOD.items() if k != field}
    err = check(raw, "missing required field")
    assert err.field == field


def test_unknown_split():
    err = check({**GOOD, "split": "holdout"}, "unknown split 'holdout'")
    assert err.field == "split"


def test_split_alias_validation_becomes_val():
    assert validate_problem({**GOOD, "split": "validation"}, record_id="1", file=None)["split"] == "val"


@pytest.mark.parametrize(("field", "value"), [("choices", "wolf, trout"), ("answer", "0"),
                                               ("question", 5), ("hint", ["a"]), ("image", 3),
                                               ("answer", True)])
def test_wrong_types(field, value):
    err = check({**GOOD, field: value}, "expected")
    assert err.field == field


def test_not_an_object():
    with pytest.raises(DataError, match="expected an object"):
        validate_problem(["x"], record_id="3", file="f.json")


@pytest.mark.parametrize(("value", "grade"), [("grade7", 7), ("12", 12), (1, 1), ("", None), (None, None)])
def test_parse_grade(value, grade):
    assert parse_grade(value, file=None, record=None) == grade


@pytest.mark.parametrize("value", ["grade13", "grade0", "seventh", 3.5])
def test_bad_grade(value):
    with pytest.raises(DataError) as info:
        parse_grade(value, file="p.json", record="9")
    assert info.value.field == "grade"
