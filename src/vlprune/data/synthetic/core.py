"""Building blocks of the SYNTHETIC dataset: a skill, the per-problem context and the item a skill makes.

A skill's ``make`` function receives a :class:`Ctx` and returns an :class:`Item`: the question,
the correct answer, the distractors, the worked solution and, for image skills, a function that
draws the picture plus a caption describing it. The driver (:mod:`.generate`) shuffles the
choices, adds the skill's lecture and curriculum labels and writes the files.

The driver picks the skill, the grade and the number of choices (the problem's *plan*) from a
stream of its own; the skill then draws from two streams derived from (seed, split, index):

* ``ctx.r`` (the *content* stream) decides everything else that fixes the answer: which facts
  are asked about, the numbers, the picture's content.
* ``ctx.s`` (the *surface* stream) decides details that never change the answer: people's
  names, irrelevant place names, small shifts of the picture.

A near-duplicate problem reuses another problem's plan and content streams with its own surface stream and
its own choice order, so it is "the same problem with a name changed and the choices reordered".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import MISSING, dataclass, fields
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

if TYPE_CHECKING:
    from PIL import Image

T = TypeVar("T")

NAMES: tuple[str, ...] = (
    "Mia", "Leo", "Ava", "Noah", "Zoe", "Omar", "Ivy", "Ethan", "Lena", "Kai",
    "Rosa", "Sam", "Nina", "Jack", "Maya", "Hugo", "Ella", "Ben", "Aria", "Liam",
)
TOWNS: tuple[str, ...] = (
    "Oakdale", "Riverton", "Pine Hill", "Lakeview", "Maple Falls", "Stonebridge",
    "Cedar Bay", "Fairfield", "Brookside", "Elmwood",
)


@dataclass
class Item:
    """What a skill makes for one problem (before the choices are shuffled)."""

    question: str
    correct: str
    distractors: list[str]
    solution: str
    hint: str = ""
    draw: Callable[[], Image.Image] | None = None
    caption: str = ""


@dataclass(frozen=True)
class Skill:
    """One leaf of the curriculum: subject -> topic -> category -> skill.

    ``rule`` is a one-sentence statement of the general rule; solutions for grade 7 and up
    start with it, which is one way harder problems get longer solutions.
    """

    key: str
    subject: str
    topic: str
    category: str
    name: str
    grades: tuple[int, int]
    image: bool
    lecture: str
    rule: str
    make: Callable[[Ctx], Item]
    max_choices: int = 5


#: The columns of a subject's skill table: every :class:`Skill` field but ``subject``, which the
#: table's module states once. Columns with a default (``max_choices``) may be left out.
SKILL_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(Skill) if f.name != "subject")
_REQUIRED = frozenset(f.name for f in fields(Skill) if f.default is MISSING and f.name != "subject")


def build_skills(subject: str, table: Sequence[Mapping[str, Any]]) -> list[Skill]:
    """The skills of one subject from its table (one mapping per skill, keyed by column name).

    The tables in :mod:`.natural`, :mod:`.social` and :mod:`.language` are the whole catalogue;
    this is the one place that checks them, so a typo in a column name or a grade range fails
    at import, naming the row, instead of producing odd problems.
    """
    skills = []
    for i, row in enumerate(table):
        where = f"{subject} skill table, row {i} ({row.get('key', '?')!r})"
        unknown, missing = set(row) - set(SKILL_COLUMNS), _REQUIRED - set(row)
        if unknown or missing:
            raise RuntimeError(f"{where}: unknown columns {sorted(unknown)}, missing {sorted(missing)}")
        lo, hi = row["grades"]
        if not 1 <= lo <= hi <= 12:
            raise RuntimeError(f"{where}: grades must satisfy 1 <= low <= high <= 12, got {row['grades']}")
        if not 2 <= row.get("max_choices", 5) <= 5 or not isinstance(row["image"], bool) or not callable(row["make"]):
            raise RuntimeError(f"{where}: max_choices must be 2..5, image a bool and make a function")
        if not all(isinstance(row[c], str) and row[c] for c in ("key", "topic", "category", "name", "lecture", "rule")):
            raise RuntimeError(f"{where}: key, topic, category, name, lecture and rule must be non-empty text")
        skills.append(Skill(subject=subject, **row))
    return skills


class Ctx:
    """The randomness and difficulty knobs one problem is made with."""

    def __init__(self, content: np.random.Generator, surface: np.random.Generator, grade: int,
                 n_choices: int) -> None:
        self.r = content
        self.s = surface
        self.grade = grade
        self.n = n_choices

    @property
    def level(self) -> float:
        """Difficulty in [0, 1]: 0 at grade 1, 1 at grade 12."""
        return (self.grade - 1) / 11

    # -- content stream ----------------------------------------------------------------
    def pick(self, seq: Sequence[T]) -> T:
        return seq[int(self.r.integers(len(seq)))]

    def sample(self, seq: Sequence[T], k: int) -> list[T]:
        """Up to ``k`` distinct elements of ``seq`` in random order."""
        order = self.r.permutation(len(seq))[: max(0, k)]
        return [seq[int(i)] for i in order]

    def coin(self, p: float = 0.5) -> bool:
        return bool(self.r.random() < p)

    def integer(self, lo: int, hi: int) -> int:
        """A uniform integer in [lo, hi] (both ends included)."""
        return int(self.r.integers(lo, hi + 1))

    # -- surface stream ----------------------------------------------------------------
    def name(self, exclude: Sequence[str] = ()) -> str:
        pool = [n for n in NAMES if n not in exclude]
        return pool[int(self.s.integers(len(pool)))]

    def town(self) -> str:
        return TOWNS[int(self.s.integers(len(TOWNS)))]

    def spick(self, seq: Sequence[T]) -> T:
        """Pick from the surface stream: for details that never change the answer."""
        return seq[int(self.s.integers(len(seq)))]


def others(groups: dict[str, Sequence[str]], exclude: str) -> list[str]:
    """Every member of every group except ``exclude``, in a fixed order."""
    return [m for g, members in groups.items() if g != exclude for m in members]


def article(word: str) -> str:
    return "an" if word[0].lower() in "aeiou" else "a"


def join_words(words: Sequence[str]) -> str:
    """['a', 'b', 'c'] -> 'a, b, and c'."""
    if len(words) <= 2:
        return " and ".join(words)
    return ", ".join(words[:-1]) + ", and " + words[-1]
