"""The ScienceQA prompt and target texts (LLaVA's QCM-LEA layout), shared by the LLaVA
export and the built-in trainer so that both train on exactly the same strings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from vlprune.data.schema import answer_letter

IMAGE_TOKEN = "<image>"


def format_options(choices: Sequence[str]) -> str:
    """``["wolf", "trout"]`` -> ``"(A) wolf (B) trout"``."""
    return " ".join(f"({answer_letter(i)}) {c}" for i, c in enumerate(choices))


def format_prompt(record: Mapping[str, Any], *, image_token: bool = True) -> str:
    """``{question}\\nContext: {hint or N/A}\\nOptions: (A) ... (B) ...``, with ``<image>\\n``
    in front for problems that have an image (when ``image_token``).

    A hint that is unknown (None: the source did not record it) is rendered like an empty
    one, ``N/A``: the prompt shows no context, as it would for a problem without one.

    Example:
        >>> print(format_prompt({"question": "Which is a mammal?", "hint": "", "image": "",
        ...                      "choices": ["wolf", "trout"]}))
        Which is a mammal?
        Context: N/A
        Options: (A) wolf (B) trout
        >>> format_prompt({"question": "Q?", "hint": None, "image": "", "choices": ["a", "b"]}).splitlines()[1]
        'Context: N/A'
    """
    context = record.get("hint") or "N/A"
    text = f"{record['question']}\nContext: {context}\nOptions: {format_options(record['choices'])}"
    if image_token and record.get("image"):
        text = f"{IMAGE_TOKEN}\n{text}"
    return text


def format_answer(record: Mapping[str, Any]) -> str:
    """``The answer is X.`` for the record's answer index."""
    return f"The answer is {answer_letter(int(record['answer']))}."


#: ScienceQA's output formats: the answer alone, the solution then the answer ("EA"), or the
#: lecture, the solution, then the answer ("LEA", LLaVA's QCM-LEA). All end "The answer is X.".
TARGET_FORMATS = ("A", "EA", "LEA")


def format_target(record: Mapping[str, Any], *, fmt: str = "LEA") -> str:
    """The response in one of :data:`TARGET_FORMATS` (default LEA, as LLaVA's export writes).
    An unknown (None) or empty lecture or solution is left out.

    Example:
        >>> rec = {"lecture": "Mammals have fur.", "solution": "A wolf has fur.", "answer": 0}
        >>> format_target(rec)
        'Mammals have fur. A wolf has fur. The answer is A.'
        >>> format_target(rec, fmt="EA")
        'A wolf has fur. The answer is A.'
    """
    if fmt not in TARGET_FORMATS:
        raise ValueError(f"target format {fmt!r} is not one of {', '.join(TARGET_FORMATS)}")
    parts = {"A": [], "EA": [record.get("solution", "")],
             "LEA": [record.get("lecture", ""), record.get("solution", "")]}[fmt]
    parts.append(format_answer(record))
    return " ".join(p.strip() for p in parts if p and p.strip())
