"""The one record schema every loader produces, its validation, and ScienceQA's categories.

A record is a ScienceQA problem: ``question``, ``choices``, ``answer`` (index into the
choices), optional ``hint`` (the text context), ``image``, ``lecture`` and ``solution``, and
the curriculum labels ``subject -> topic -> category -> skill`` with a ``grade`` (1-12).

Empty and unknown are different things. ``"hint": ""`` says the problem has no context; a
record without a ``hint`` (or with ``null``) has a context nobody recovered. The fields of
:data:`MAYBE_UNKNOWN` keep that difference in the pool: an unknown text field is ``None``,
an unknown grade is ``pd.NA`` (the column is a nullable integer). Choices, answer and image
are always known: LLaVA conversations have no choices (``[]``, answer ``-1``), and a record
without an image has ``""``.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any

from vlprune.errors import DataError

#: Column order of a pool's table. ``image`` is the reference as written in the source
#: (``image.png``, ``coco/train2017/0001.jpg``); ``image_path`` is where its pixels were
#: found on this machine ("" when missing) and is not part of the content fingerprint.
FIELDS: tuple[str, ...] = (
    "id",
    "split",
    "question",
    "choices",
    "answer",
    "hint",
    "image",
    "caption",
    "subject",
    "topic",
    "category",
    "skill",
    "grade",
    "lecture",
    "solution",
    "source",
    "conversations",
)
TEXT_FIELDS = ("question", "hint", "image", "caption", "subject", "topic", "category", "skill",
               "lecture", "solution", "source")
#: Fields a record may leave unknown (absent or null in the source): None in the pool's table
#: (``pd.NA`` for the grade), as opposed to ``""``, which means known to be empty.
MAYBE_UNKNOWN = ("hint", "subject", "topic", "category", "skill", "grade", "lecture", "solution")
#: Fields a selector may group or stratify by.
GROUP_FIELDS = ("split", "subject", "topic", "category", "skill", "grade", "source")

SPLITS = ("train", "val", "test", "minitrain", "minival", "minitest")
#: Split names other datasets use for ours.
SPLIT_ALIASES = {"validation": "val", "valid": "val", "dev": "val"}

SUBJECT_CODES = {"natural science": "NAT", "social science": "SOC", "language science": "LAN"}
#: ScienceQA's evaluation categories, in the order its paper's tables report them.
CATEGORIES = ("NAT", "SOC", "LAN", "TXT", "IMG", "NO", "G1-6", "G7-12")
#: The categories in families, each decided by the fields named: a record whose field is
#: unknown belongs to no category of the family that reads it (see ``Pool.category_known``).
CATEGORY_FAMILIES = {
    ("NAT", "SOC", "LAN"): ("subject",),
    ("TXT", "IMG", "NO"): ("hint", "image"),
    ("G1-6", "G7-12"): ("grade",),
}

_GRADE = re.compile(r"^(?:grade)?\s*(\d{1,2})$", re.IGNORECASE)


def parse_grade(value: Any, *, file: str | None, record: str | None) -> int | None:
    """``"grade7"``, ``"7"`` or ``7`` -> 7; absent, null or ``""`` -> None (unknown: a problem
    always has a grade, so an empty one was not recorded). Other values are an error."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise DataError(f"expected a grade 1-12 or 'gradeN', got {value!r}", file=file, record=record,
                        field="grade")
    if isinstance(value, int):
        grade = value
    elif isinstance(value, str) and (m := _GRADE.match(value.strip())):
        grade = int(m.group(1))
    else:
        raise DataError(f"expected a grade 1-12 or 'gradeN', got {value!r}", file=file, record=record,
                        field="grade")
    if not 1 <= grade <= 12:
        raise DataError(f"grade {grade} is outside 1-12", file=file, record=record, field="grade")
    return grade


def normalise_split(value: Any, *, file: str | None, record: str | None) -> str:
    if not isinstance(value, str):
        raise DataError(f"expected a split name, got {type(value).__name__} {value!r}", file=file,
                        record=record, field="split")
    split = SPLIT_ALIASES.get(value, value)
    if split not in SPLITS:
        raise DataError(f"unknown split {value!r}; expected one of {', '.join(SPLITS)}", file=file,
                        record=record, field="split")
    return split


def _is_absolute(reference: str) -> bool:
    ref = reference.replace("\\", "/")
    return posixpath.isabs(ref) or re.match(r"^[A-Za-z]:/", ref) is not None


def escapes_folder(reference: str, *, allow_absolute: bool = False) -> bool:
    """Whether a relative file reference climbs out of the folder it is relative to (``..``
    components that go above it), or is absolute when that is not allowed. Lexical, so a
    folder holding symlinks to another disk is fine.

    Example:
        >>> escapes_folder("image.png"), escapes_folder("a/../b.png"), escapes_folder("../../etc/passwd")
        (False, False, True)
        >>> escapes_folder("/data/x.png"), escapes_folder("/data/x.png", allow_absolute=True)
        (True, False)
    """
    if _is_absolute(reference):
        return not allow_absolute
    normal = posixpath.normpath(reference.replace("\\", "/"))
    return normal == ".." or normal.startswith("../")


def check_image_reference(reference: str, *, file: str | None, record: str | None,
                          allow_absolute: bool = False) -> None:
    """A :class:`DataError` when ``reference`` escapes the image folder (see :func:`escapes_folder`)."""
    if escapes_folder(reference, allow_absolute=allow_absolute):
        kind = ("is absolute; it must be relative to the image folder" if _is_absolute(reference)
                else "climbs out of the image folder")
        raise DataError(f"image path {reference!r} {kind}", file=file, record=record, field="image")


def _text(raw: dict, field: str, *, file: str | None, record: str | None) -> str | None:
    value = raw.get(field)
    if value is None:  # absent or null: unknown where the field may be, else empty
        return None if field in MAYBE_UNKNOWN else ""
    if not isinstance(value, str):
        raise DataError(f"expected text, got {type(value).__name__} {value!r:.60}", file=file,
                        record=record, field=field)
    return value


def validate_problem(
    raw: Any,
    *,
    record_id: str,
    file: str | None,
    default_split: str | None = None,
    require_choices: bool = True,
) -> dict[str, Any]:
    """Check one raw ScienceQA-style problem and return it in the pool's schema.

    Raises :class:`DataError` naming ``file``, ``record_id`` and the offending field for a
    missing required field, an empty question, a wrong type, an unknown split or an answer
    outside the choices. Fields of :data:`MAYBE_UNKNOWN` that are absent or null come back
    as None (unknown); ``""`` stays ``""`` (known to be empty).

    Example:
        >>> rec = validate_problem({"question": "Which is a mammal?", "choices": ["wolf", "trout"],
        ...                         "answer": 0, "grade": "grade3", "hint": "", "split": "train"},
        ...                        record_id="7", file="problems.json")
        >>> rec["grade"], rec["choices"], rec["hint"], rec["lecture"]
        (3, ['wolf', 'trout'], '', None)
    """
    where = {"file": file, "record": record_id}
    if not isinstance(raw, dict):
        raise DataError(f"expected an object, got {type(raw).__name__}", **where)

    question = raw.get("question")
    if question is None:
        raise DataError("missing required field", field="question", **where)
    if not isinstance(question, str):
        raise DataError(f"expected text, got {type(question).__name__}", field="question", **where)
    if not question.strip():
        raise DataError("the question is empty", field="question", **where)

    choices = raw.get("choices")
    if choices is None:
        if require_choices:
            raise DataError("missing required field", field="choices", **where)
        choices = []
    if not isinstance(choices, list | tuple) or not all(isinstance(c, str) for c in choices):
        raise DataError(f"expected a list of strings, got {choices!r:.80}", field="choices", **where)
    choices = list(choices)
    if require_choices and len(choices) < 2:
        raise DataError(f"expected at least 2 choices, got {len(choices)}", field="choices", **where)

    answer = raw.get("answer", None if choices else -1)
    if answer is None:
        raise DataError("missing required field", field="answer", **where)
    if isinstance(answer, bool) or not isinstance(answer, int):
        raise DataError(f"expected an integer index into the choices, got {answer!r}", field="answer",
                        **where)
    if choices and not 0 <= answer < len(choices):
        raise DataError(f"answer index {answer} is outside the {len(choices)} choices", field="answer",
                        **where)

    split = raw.get("split", default_split)
    if split is None:
        raise DataError("missing required field", field="split", **where)

    image = raw.get("image")
    if image is not None and not isinstance(image, str):
        raise DataError(f"expected an image file name or null, got {type(image).__name__}",
                        field="image", **where)
    if image:
        check_image_reference(image, **where)

    record = {
        "id": record_id,
        "split": normalise_split(split, **where),
        "question": question,
        "choices": choices,
        "answer": int(answer) if choices else -1,
        "grade": parse_grade(raw.get("grade"), **where),
        "conversations": None,
    }
    for field in TEXT_FIELDS:
        record[field] = _text(raw, field, **where)
    return record


def answer_letter(index: int) -> str:
    """0 -> 'A', 1 -> 'B', ..."""
    return chr(ord("A") + index)
