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


#: How the response names the chosen option: its letter (LLaVA's ``The answer is B.``), its
#: text (``The answer is trout.``, a cloze: the model copies the option it picks), or both
#: (``The answer is (B) trout.``).
ANSWER_FORMATS = ("letter", "text", "letter-text")


def format_option_answer(choices: Sequence[str], index: int, *, answer: str = "letter") -> str:
    """The response sentence naming option ``index`` in one of :data:`ANSWER_FORMATS`.

    Example:
        >>> [format_option_answer(["wolf", "trout"], 1, answer=a) for a in ANSWER_FORMATS]
        ['The answer is B.', 'The answer is trout.', 'The answer is (B) trout.']
    """
    if answer not in ANSWER_FORMATS:
        raise ValueError(f"answer format {answer!r} is not one of {', '.join(ANSWER_FORMATS)}")
    letter, text = answer_letter(index), str(choices[index]).strip()
    named = {"letter": letter, "text": text, "letter-text": f"({letter}) {text}"}[answer]
    return f"The answer is {named}."


def format_answer(record: Mapping[str, Any], *, answer: str = "letter") -> str:
    """``The answer is X.`` (or the option's text, see :data:`ANSWER_FORMATS`) for the
    record's answer index."""
    if answer == "letter":  # needs no choices (LLaVA conversations have none)
        return f"The answer is {answer_letter(int(record['answer']))}."
    return format_option_answer(record["choices"], int(record["answer"]), answer=answer)


#: ScienceQA's output formats: the answer alone, the solution then the answer ("EA"), or the
#: lecture, the solution, then the answer ("LEA", LLaVA's QCM-LEA). All end "The answer is X.".
TARGET_FORMATS = ("A", "EA", "LEA")


def format_target(record: Mapping[str, Any], *, fmt: str = "LEA", answer: str = "letter") -> str:
    """The response in one of :data:`TARGET_FORMATS` (default LEA, as LLaVA's export writes),
    ending with the answer in one of :data:`ANSWER_FORMATS` (default the letter).
    An unknown (None) or empty lecture or solution is left out.

    Example:
        >>> rec = {"lecture": "Mammals have fur.", "solution": "A wolf has fur.", "answer": 0}
        >>> format_target(rec)
        'Mammals have fur. A wolf has fur. The answer is A.'
        >>> format_target(rec, fmt="EA")
        'A wolf has fur. The answer is A.'
        >>> format_target({**rec, "choices": ["wolf", "trout"]}, fmt="A", answer="text")
        'The answer is wolf.'
    """
    if fmt not in TARGET_FORMATS:
        raise ValueError(f"target format {fmt!r} is not one of {', '.join(TARGET_FORMATS)}")
    parts = {"A": [], "EA": [record.get("solution", "")],
             "LEA": [record.get("lecture", ""), record.get("solution", "")]}[fmt]
    parts.append(format_answer(record, answer=answer))
    return " ".join(p.strip() for p in parts if p and p.strip())
