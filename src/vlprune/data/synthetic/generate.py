"""Driver of the SYNTHETIC dataset: makes problems from the catalog and writes the ScienceQA layout.

Problem ``i`` of a split depends only on ``(seed, split, i)``: its random streams are
``np.random.default_rng([seed, split_code, index, stream, *attempts])``. So the output does not
depend on the number of worker processes, and a smaller dataset is a prefix of a larger one with
the same seed.

A problem is made in two steps: its *plan* (skill, grade, number of choices) from the plan
stream, then its content (facts, numbers, picture) from the content stream and its surface
(names, wording, choice order, picture shift) from the surface stream.

Disjoint splits: the three splits are drawn from the same distribution, so a skill with few
facts would produce the very same problem in train and in test again and again. To keep splits
disjoint, as ScienceQA's are, every possible problem *belongs* to one split, by a hash of its
:func:`split_key` -- question, hint, the SET of choices, the answer text and the caption, so
neither the order of the choices nor a drawing detail that the caption omits (positions,
sizes, a shift) can put the same problem in two splits: 60% of the hash buckets to train, 20%
to val, 20% to test. A draft that belongs to another split is redrawn with the same plan and
the next content attempt, so every split keeps the catalogue's skill and grade mix; only a
plan with no problem of its own in the split (after :data:`_CONTENT_TRIES` attempts) moves on
to the next plan.

Near-duplicates: with probability :data:`VARIANT_RATE` problem ``i`` is a *variant* of an
earlier problem ``j`` of the same split (chosen uniformly). A variant reuses the plan and
content streams of ``j`` (and so of ``j``'s own source), so it asks the same thing with the
same answer and picture content, but draws its own surface details (names, towns, question
wording, a small shift of the picture) and its own choice order.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from vlprune.data.synthetic import render
from vlprune.data.synthetic.catalog import CUMULATIVE, SKILLS
from vlprune.data.synthetic.core import Ctx, Item, Skill
from vlprune.errors import ConfigError

SPLIT_CODES: dict[str, int] = {"train": 0, "val": 1, "test": 2}
#: Share of problems that are near-duplicates (variants) of an earlier problem in their split.
VARIANT_RATE = 0.25
#: Problems per task handed to a worker process.
CHUNK = 400
_META, _CONTENT, _SURFACE, _PLAN = range(4)
_MAX_SOLUTION_WORDS = 60
#: Content-hash buckets owned by each split (train 60%, val 20%, test 20%, like ScienceQA).
_BUCKETS = 10
_OWNER = ("train",) * 6 + ("val",) * 2 + ("test",) * 2
#: Content attempts per plan: a plan with many possible problems practically always finds one
#: of its split (0.8 ** 60 ~ 2e-6); one with few (a rare skill at one grade) may own none in a
#: split and then moves on to the next plan, after at most _MAX_PLANS.
_CONTENT_TRIES = 60
_MAX_PLANS = 20
#: Surface attempts of a variant; one whose content has too few wordings is made afresh instead.
_MAX_VARIANT_TRIES = 30


@dataclass
class MadeProblem:
    pid: str
    problem: dict[str, Any]
    caption: str | None
    image: Any  # PIL.Image.Image or None
    root: int  # index of the problem whose content this one shares (itself unless a variant)
    skill_key: str
    picture: str | None  # what the picture shows (its drawing call), before the shift; None without one
    plan: int = 0  # plan attempt: > 0 when the first plan had no problem of its own in this split


@dataclass(frozen=True)
class _Attempt:
    """Which draft of a problem was accepted: whose plan and content, and which attempts."""

    source: int  # problem whose plan and content streams are used (itself unless a variant)
    plan: int
    content: int
    surface: int


@dataclass
class _Draft:
    skill: Skill
    grade: int
    item: Item
    choices: list[str]
    answer: int
    shift: tuple[int, int]
    picture: str | None
    owner: str


def _rng(seed: int, code: int, index: int, stream: int, *attempts: int) -> np.random.Generator:
    return np.random.default_rng([seed, code, index, stream, *attempts])


def n_choices(grade: int, u: float) -> int:
    """2 choices in grade 1 rising to 5 in grade 12, randomly rounded in between."""
    return min(5, int(2 + 3 * (grade - 1) / 11 + u))


def _parent(seed: int, code: int, index: int) -> int | None:
    """The earlier problem that problem ``index`` is a variant of, or None."""
    if index == 0:
        return None
    meta = _rng(seed, code, index, _META, 0)
    return int(meta.integers(index)) if meta.random() < VARIANT_RATE else None


def split_key(question: str, hint: str, choices: list[str], answer: str, caption: str) -> str:
    """What decides a problem's split: everything a solver sees, except the choice order.

    Two problems with the same key are the same problem to a learner (the picture can differ
    only in what its caption leaves out), so they always land in the same split.
    """
    return json.dumps([question, hint, sorted(choices), answer, caption], ensure_ascii=False)


def _owner(key: str) -> str:
    bucket = int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big") % _BUCKETS
    return _OWNER[bucket]


@lru_cache(maxsize=4096)  # every content attempt and every variant of a problem reuses its plan
def _plan(seed: int, code: int, source: int, plan_try: int) -> tuple[Skill, int, int]:
    """(skill, grade, number of choices) of problem ``source``'s plan attempt ``plan_try``."""
    plan = _rng(seed, code, source, _PLAN, plan_try)
    k = min(int(np.searchsorted(CUMULATIVE, plan.random(), side="right")), len(SKILLS) - 1)
    skill = SKILLS[k]
    grade = int(plan.integers(skill.grades[0], skill.grades[1] + 1))
    return skill, grade, min(n_choices(grade, float(plan.random())), skill.max_choices)


def _draft(seed: int, code: int, index: int, at: _Attempt) -> _Draft:
    """One candidate for problem ``index``: plan and content from ``at.source``'s streams, surface own."""
    skill, grade, n = _plan(seed, code, at.source, at.plan)
    content = _rng(seed, code, at.source, _CONTENT, at.plan, at.content)
    # Choice order and picture shift come from the surface stream too, after the skill's own draws.
    surface = _rng(seed, code, index, _SURFACE, at.surface)
    item = skill.make(Ctx(content, surface, grade, n))

    options = [item.correct, *item.distractors[: n - 1]]
    if len(options) < 2 or len(set(options)) != len(options):
        raise RuntimeError(f"internal error: skill {skill.key} made bad choices {options}")
    perm = surface.permutation(len(options))
    choices = [options[int(j)] for j in perm]
    answer = int(np.flatnonzero(perm == 0)[0])
    dx, dy = (int(v) for v in surface.integers(-3, 4, size=2))
    picture = None
    if item.draw is not None:
        picture = repr((getattr(item.draw, "func", item.draw).__name__, getattr(item.draw, "args", ()),
                        getattr(item.draw, "keywords", {})))
    caption = item.caption if item.draw is not None else ""
    owner = _owner(split_key(item.question, item.hint, choices, item.correct, caption))
    return _Draft(skill, grade, item, choices, answer, (dx, dy), picture, owner)


@lru_cache(maxsize=4096)
def _resolve(seed: int, code: int, index: int) -> _Attempt:
    """The attempt whose draft problem ``index`` accepted."""
    split = next(s for s, c in SPLIT_CODES.items() if c == code)
    parent = _parent(seed, code, index)
    if parent is not None:
        at = _resolve(seed, code, parent)
        for t in range(_MAX_VARIANT_TRIES):
            variant = _Attempt(at.source, at.plan, at.content, t)
            if _draft(seed, code, index, variant).owner == split:
                return variant
        # The shared content has no wording that belongs to this split: make a fresh problem.
    for p in range(_MAX_PLANS):
        for t in range(_CONTENT_TRIES):
            at = _Attempt(index, p, t, t)
            if _draft(seed, code, index, at).owner == split:
                return at
    raise RuntimeError(f"internal error: no draft of problem {index} belongs to split {split}")


def _solution(skill: Skill, text: str, grade: int, wrong: list[str]) -> str:
    """Higher grades get longer solutions: the general rule first, then why the rest are wrong."""
    parts = [text]
    if grade >= 7:
        parts.insert(0, skill.rule)
    if grade >= 10 and len(wrong) >= 2:
        extra = f"The other choices, {', '.join(wrong[:-1])} and {wrong[-1]}, do not fit."
        if len(" ".join([*parts, extra]).split()) <= _MAX_SOLUTION_WORDS:
            parts.append(extra)
    solution = " ".join(parts)
    if len(solution.split()) > _MAX_SOLUTION_WORDS:
        solution = text
    return solution


def make_problem(seed: int, split: str, index: int) -> MadeProblem:
    """Problem ``index`` of ``split``: the record, its caption and its picture (or None)."""
    code = SPLIT_CODES[split]
    at = _resolve(seed, code, index)
    d = _draft(seed, code, index, at)
    skill, item = d.skill, d.item
    pid = f"syn-{split}-{index:05d}"
    problem = {
        "question": item.question,
        "choices": d.choices,
        "answer": d.answer,
        "hint": item.hint,
        "image": "image.png" if item.draw is not None else None,
        "task": "closed choice",
        "grade": f"grade{d.grade}",
        "subject": skill.subject,
        "topic": skill.topic,
        "category": skill.category,
        "skill": skill.name,
        "lecture": skill.lecture,
        "solution": _solution(skill, item.solution, d.grade, [c for j, c in enumerate(d.choices) if j != d.answer]),
        "split": split,
    }
    image = render.shift(item.draw(), *d.shift) if item.draw is not None else None
    return MadeProblem(pid, problem, item.caption if item.draw is not None else None, image, at.source, skill.key,
                       d.picture, at.plan)


def _work(task: tuple[int, str, int, int, str]) -> list[tuple[str, dict[str, Any], str | None]]:
    """Make problems ``start..stop`` of a split, writing their images under ``out``."""
    seed, split, start, stop, out = task
    rows = []
    for i in range(start, stop):
        made = make_problem(seed, split, i)
        if made.image is not None:
            folder = Path(out, "images", split, made.pid)
            folder.mkdir(parents=True)
            made.image.save(folder / "image.png", format="PNG")
        rows.append((made.pid, made.problem, made.caption))
    return rows


def _check_sizes(sizes: Mapping[str, int]) -> dict[str, int]:
    unknown = set(sizes) - set(SPLIT_CODES)
    if unknown:
        raise ConfigError(f"synthetic sizes name the splits train, val and test; got {sorted(sizes)}")
    out = {}
    for split in SPLIT_CODES:
        n = sizes.get(split, 0)
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0 or n > 99_999:
            raise ConfigError(f"synthetic size of split {split!r} must be an integer in 0..99999, got {n!r}")
        out[split] = int(n)
    return out


def generate_dataset(
    root: str | os.PathLike,
    sizes: Mapping[str, int],
    seed: int = 0,
    *,
    workers: int | None = None,
    progress: bool = False,
) -> None:
    """Write the synthetic dataset into ``root`` in the original ScienceQA layout.

    ``root`` must not exist yet or be an empty directory. Everything is written into a
    temporary sibling directory first and renamed into place at the end, so a crash never
    leaves a half-written dataset. ``workers=None`` uses ``min(2, os.cpu_count())`` processes;
    ``workers=1`` runs in this process. The output is byte-identical for any ``workers``.

    Example:
        >>> import tempfile, pathlib, json
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "syn"
        >>> generate_dataset(out, {"train": 20, "val": 5, "test": 5}, seed=0, workers=1)
        >>> problems = json.loads((out / "problems.json").read_text())
        >>> len(problems), sorted(problems)[0]
        (30, 'syn-test-00000')
    """
    sizes = _check_sizes(sizes)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ConfigError(f"synthetic seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    root = Path(root)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise ConfigError(f"{root} already exists and is not an empty directory")
    root.parent.mkdir(parents=True, exist_ok=True)
    if workers is None:
        workers = min(2, os.cpu_count() or 1)
    workers = max(1, int(workers))

    tasks = [(seed, split, a, min(a + CHUNK, n), "") for split, n in sizes.items() for a in range(0, n, CHUNK)]
    tmp = Path(tempfile.mkdtemp(prefix=f".{root.name}.", suffix=".tmp", dir=root.parent))
    try:
        tasks = [(*t[:4], str(tmp)) for t in tasks]
        results: list[list[tuple[str, dict[str, Any], str | None]]] = [[] for _ in tasks]
        from tqdm.auto import tqdm

        with tqdm(total=sum(sizes.values()), disable=not progress, unit="problem",
                  desc="synthetic dataset") as bar:
            if workers == 1 or len(tasks) <= 1:
                for t, task in enumerate(tasks):
                    results[t] = _work(task)
                    bar.update(len(results[t]))
            else:
                with ProcessPoolExecutor(max_workers=min(workers, len(tasks))) as pool:
                    futures = {pool.submit(_work, task): t for t, task in enumerate(tasks)}
                    for future in as_completed(futures):
                        results[futures[future]] = future.result()
                        bar.update(len(results[futures[future]]))

        problems: dict[str, dict[str, Any]] = {}
        captions: dict[str, str] = {}
        pid_splits: dict[str, list[str]] = {split: [] for split in SPLIT_CODES}
        for rows in results:
            for pid, problem, caption in rows:
                problems[pid] = problem
                pid_splits[problem["split"]].append(pid)
                if caption is not None:
                    captions[pid] = caption
        for name, obj in (("problems.json", problems), ("pid_splits.json", pid_splits),
                          ("captions.json", captions)):
            (tmp / name).write_text(json.dumps(obj, ensure_ascii=False, indent=1), encoding="utf-8")
        if root.exists():
            root.rmdir()  # empty (checked above); a directory cannot be renamed over on every OS
        os.replace(tmp, root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
