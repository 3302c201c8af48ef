"""Small reusable pieces for skill definitions of the SYNTHETIC dataset."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypeVar

from vlprune.data.synthetic.core import Ctx
from vlprune.data.synthetic.render import COLORS, SIZE

T = TypeVar("T")

NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                "ten", "eleven", "twelve")


def fill(ctx: Ctx, preferred: Sequence[T], rest: Sequence[T], k: int) -> list[T]:
    """``k`` distinct picks, taken from ``preferred`` first and then from ``rest``."""
    first = ctx.sample(preferred, k)
    remaining = [x for x in rest if x not in first]
    return first + ctx.sample(remaining, k - len(first))


def nearest_colors(name: str, pool: Sequence[str]) -> list[str]:
    """Colours of ``pool`` ordered by RGB distance to ``name`` (closest first)."""
    r, g, b = COLORS[name]
    return sorted((c for c in pool if c != name),
                  key=lambda c: math.dist((r, g, b), COLORS[c]))


def grid_points(ctx: Ctx, count: int, cols: int, rows: int, margin: float = 14) -> list[tuple[float, float]]:
    """``count`` centres of distinct cells of a ``cols x rows`` grid over the picture."""
    cells = ctx.sample(range(cols * rows), count)
    w = (SIZE - 2 * margin) / cols
    h = (SIZE - 2 * margin) / rows
    return [(margin + (c % cols + 0.5) * w, margin + (c // cols + 0.5) * h) for c in cells]


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def fmt_number(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def window_choices(ctx: Ctx, grid: Sequence[T], k: int, spacing: int) -> tuple[T, list[T]]:
    """``k`` evenly spaced values from a random stretch of ``grid``, and one of them as the answer.

    The set is drawn first and the answer uniformly from it, so the choices alone never hint
    at the answer (no "the right one is in the middle" pattern). ``spacing`` is in grid steps:
    1 makes the closest, hardest distractors.
    """
    k = min(k, len(grid))
    while spacing > 1 and spacing * (k - 1) >= len(grid):
        spacing -= 1
    start = ctx.integer(0, len(grid) - 1 - spacing * (k - 1))
    window = [grid[start + spacing * j] for j in range(k)]
    answer = ctx.pick(window)
    return answer, [w for w in window if w != answer]


def spacing_for(ctx: Ctx) -> int:
    """Distractor spacing in grid steps: close (1) from the middle grades up, wider below."""
    return 1 if ctx.level > 0.3 else 2
