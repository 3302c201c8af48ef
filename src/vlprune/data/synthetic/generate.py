"""Driver of the SYNTHETIC dataset: makes problems from the catalog and writes the ScienceQA layout.

Problem ``i`` of a split depends only on ``(seed, split, i)``: its random streams are
``np.random.default_rng([seed, split_code, index, stream, attempt])``. So the output does not
depend on the number of worker processes, and a smaller dataset is a prefix of a larger one with
the same seed.

Disjoint splits: the three splits are drawn from the same distribution, so a skill with few
facts would produce the very same problem in train and in test again and again. To keep splits
disjoint, as ScienceQA's are, every possible problem (its text, choices in order, answer and
picture) *belongs* to one split, by a hash of its content: 60% of the hash buckets to train,
20% to val, 20% to test. A problem is drafted again (next attempt of its random streams) until
the draft belongs to the split being made. No exact problem can then appear in two splits.

Near-duplicates: with probability :data:`VARIANT_RATE` problem ``i`` is a *variant* of an
earlier problem ``j`` of the same split (chosen uniformly). A variant reuses the content stream
of ``j`` (and so of ``j``'s own source), so it asks the same thing with the same answer and
picture content, but draws its own surface details (names, towns, question wording, a small
shift of the picture) and its own choice order.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import threading
import time
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
from vlprune.io import make_temp_dir

SPLIT_CODES: dict[str, int] = {"train": 0, "val": 1, "test": 2}
#: Share of problems that are near-duplicates (variants) of an earlier problem in their split.
VARIANT_RATE = 0.25
#: Problems per task handed to a worker process.
CHUNK = 400
_META, _CONTENT, _SURFACE = range(3)
_MAX_SOLUTION_WORDS = 60
#: Content-hash buckets owned by each split (train 60%, val 20%, test 20%, like ScienceQA).
_BUCKETS = 10
_OWNER = ("train",) * 6 + ("val",) * 2 + ("test",) * 2
#: Drafts tried before giving up: a fresh problem practically always finds one of its split
#: (0.8 ** 100 ~ 1e-10); a variant whose content has too few wordings is made afresh instead.
_MAX_TRIES = 100
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


def _rng(seed: int, code: int, index: int, stream: int, attempt: int) -> np.random.Generator:
    return np.random.default_rng([seed, code, index, stream, attempt])


def n_choices(grade: int, u: float) -> int:
    """2 choices in grade 1 rising to 5 in grade 12, randomly rounded in between."""
    return min(5, int(2 + 3 * (grade - 1) / 11 + u))


def _parent(seed: int, code: int, index: int) -> int | None:
    """The earlier problem that problem ``index`` is a variant of, or None."""
    if index == 0:
        return None
    meta = _rng(seed, code, index, _META, 0)
    return int(meta.integers(index)) if meta.random() < VARIANT_RATE else None


def _draft(seed: int, code: int, index: int, source: int, content_try: int, surface_try: int) -> _Draft:
    """One candidate for problem ``index``: content from problem ``source``'s stream, surface own."""
    content = _rng(seed, code, source, _CONTENT, content_try)
    # Choice order and picture shift come from the surface stream too, after the skill's own draws.
    surface = _rng(seed, code, index, _SURFACE, surface_try)

    k = min(int(np.searchsorted(CUMULATIVE, content.random(), side="right")), len(SKILLS) - 1)
    skill = SKILLS[k]
    grade = int(content.integers(skill.grades[0], skill.grades[1] + 1))
    n = min(n_choices(grade, float(content.random())), skill.max_choices)
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
    key = json.dumps([item.question, item.hint, choices, answer, picture], ensure_ascii=False)
    bucket = int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big") % _BUCKETS
    return _Draft(skill, grade, item, choices, answer, (dx, dy), picture, _OWNER[bucket])


@lru_cache(maxsize=4096)
def _resolve(seed: int, code: int, index: int) -> tuple[int, int, int]:
    """(content source, content attempt, surface attempt) of problem ``index``'s accepted draft."""
    split = next(s for s, c in SPLIT_CODES.items() if c == code)
    parent = _parent(seed, code, index)
    if parent is not None:
        source, content_try, _ = _resolve(seed, code, parent)
        for t in range(_MAX_VARIANT_TRIES):
            if _draft(seed, code, index, source, content_try, t).owner == split:
                return source, content_try, t
        # The shared content has no wording that belongs to this split: make a fresh problem.
    for t in range(_MAX_TRIES):
        if _draft(seed, code, index, index, t, t).owner == split:
            return index, t, t
    return index, _MAX_TRIES - 1, _MAX_TRIES - 1


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
    source, content_try, surface_try = _resolve(seed, code, index)
    d = _draft(seed, code, index, source, content_try, surface_try)
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
    return MadeProblem(pid, problem, item.caption if item.draw is not None else None, image, source, skill.key,
                       d.picture)


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


def _init_worker() -> None:
    # Workers leave Ctrl-C to the parent, which stops them all at once (see _stop_workers);
    # each would otherwise print its own traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A parent that is killed outright cannot stop them: they stop themselves, instead of
    # generating on into a folder that nobody will use (and keeping it locked, see io.work_dir).
    # (The parent is whoever started the worker: this process, or a fork server.)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Stop now: drop the queued chunks and kill the running ones. The executor's own
    shutdown waits for every running chunk to finish, over a minute after a Ctrl-C."""
    terminate = getattr(pool, "terminate_workers", None)  # Python 3.14
    if terminate is not None:
        terminate()
        return
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=5)


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
    tmp = make_temp_dir(root.parent, prefix=f".{root.name}.", suffix=".tmp")
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
                pool = ProcessPoolExecutor(max_workers=min(workers, len(tasks)), initializer=_init_worker)
                try:
                    futures = {pool.submit(_work, task): t for t, task in enumerate(tasks)}
                    for future in as_completed(futures):
                        results[futures[future]] = future.result()
                        bar.update(len(results[futures[future]]))
                except BaseException:
                    _stop_workers(pool)
                    raise
                pool.shutdown()

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
