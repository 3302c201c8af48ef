"""A model's answers to ScienceQA problems: predictions by likelihood or generation, their
metrics, and the result files. (:func:`vlprune.train.evaluate` rebuilds a finished run's model
and calls this.)

Two deterministic modes:

- ``likelihood`` (default, fast): every option's answer sentence, in the format the model
  was trained to write (``data.answer``: ``The answer is B.``, ``The answer is trout.`` or
  ``The answer is (B) trout.``), is scored after the prompt; the option with the highest
  log-probability is the prediction. Only the tokens where the options' sentences differ
  are scored (the part shared by all of a problem's options is left out). When each option
  differs in one token (the letters, always with the presets' tokenizer) one forward pass
  scores all options at once; otherwise each option is teacher-forced in its own row. A
  model trained to reason first (``data.target`` EA or LEA) first writes its reasoning
  greedily, and the answers are scored after that reasoning, as its training sequences had
  them.
- ``generate``: greedy decoding, parsed the way LLaVA's ScienceQA evaluation parses it
  (a bare letter, ``"X. ..."``, or exactly one ``The answer is X.``; for the other answer
  formats exactly one ``The answer is (X) ...`` or ``The answer is <an option's text>.``).
  An answer that cannot be parsed counts as wrong and is recorded as ``-1`` (LLaVA's script
  guesses at random).

``metrics.json`` (:func:`vlprune.data.metrics.score_predictions`) holds the accuracy with its counts overall and for NAT, SOC, LAN, TXT, IMG,
NO, G1-6 and G7-12 (see :meth:`vlprune.data.pool.Pool.categories`), and the chance level
(the mean of 1 / number of choices); ``predictions.json`` is ScienceQA's results layout.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from vlprune.data.metrics import score_predictions
from vlprune.data.prompts import format_option_answer
from vlprune.data.schema import answer_letter
from vlprune.io import write_json

if TYPE_CHECKING:
    from vlprune.data.pool import Pool
    from vlprune.train.config import TrainConfig
    from vlprune.train.model import ModelBundle
    from vlprune.train.rundir import RunDir

log = logging.getLogger("vlprune")

ANSWER_PREFIX = "The answer is"
_ANSWER = re.compile(r"The answer is ([A-Z]).")
_LETTER_TEXT_ANSWER = re.compile(r"The answer is \(([A-Z])\)")


@dataclass
class EvalResult:
    """Predicted choice index per problem (``-1``: unparsed) and the metrics."""

    ids: list[str]
    predictions: np.ndarray
    metrics: dict[str, Any]
    #: (metrics file, predictions file) once written.
    files: tuple[Path, Path] | None = None

    def results(self) -> dict[str, int]:
        return {pid: int(p) for pid, p in zip(self.ids, self.predictions, strict=True)}

    @classmethod
    def read(cls, run: RunDir) -> EvalResult:
        """The evaluation a finished run wrote (``metrics.json`` and ``predictions.json``)."""
        import json

        results = json.loads(run.predictions.read_text(encoding="utf-8"))["results"]
        metrics = json.loads(run.metrics.read_text(encoding="utf-8"))
        return cls(list(results), np.array(list(results.values()), dtype=np.int64), metrics,
                   (run.metrics, run.predictions))


# -- parsing and result files -------------------------------------------------------------
def parse_answer(text: str, n_choices: int, *, choices: list[str] | None = None, answer: str = "letter") -> int:
    """The choice index in a generated answer, parsed as LLaVA's ScienceQA evaluation does;
    -1 when there is none (or it names no option). ``answer`` is the format the model was
    trained to write (:data:`~vlprune.data.prompts.ANSWER_FORMATS`): ``letter-text`` is read
    by its letter, ``text`` must name exactly one option's text (``choices``) after exactly
    one ``The answer is``.

    Example:
        >>> parse_answer("Wolves have fur. The answer is B.", 3), parse_answer("C", 3), parse_answer("maybe", 3)
        (1, 2, -1)
        >>> parse_answer("The answer is (B) trout.", 2, answer="letter-text")
        1
        >>> parse_answer("The answer is trout.", 2, choices=["wolf", "trout"], answer="text")
        1
    """
    options = [answer_letter(i) for i in range(n_choices)]
    if answer == "letter-text":
        found = _LETTER_TEXT_ANSWER.findall(text)
        return options.index(found[0]) if len(found) == 1 and found[0] in options else -1
    if answer == "text":
        if choices is None:
            raise ValueError("parsing a text answer needs the choices")
        parts = text.split(ANSWER_PREFIX)
        if len(parts) != 2:
            return -1
        named = parts[1].strip()
        named = named[:-1].strip() if named.endswith(".") else named
        # Option texts may end in their own full stop (a sentence): compare without it.
        texts = [str(c).strip().rstrip(".").strip() for c in choices]
        hits = [i for i, t in enumerate(texts) if t == named.rstrip(".").strip()]
        return hits[0] if len(hits) == 1 else -1
    text = text.strip()
    if text in options:
        letter = text
    elif len(text) >= 3 and text[0] in options and text[1:3] == ". ":
        letter = text[0]
    else:
        found = _ANSWER.findall(text)
        letter = found[0] if len(found) == 1 else ""
    return options.index(letter) if letter in options else -1


def write_results(run: RunDir, result: EvalResult, *, suffix: str = "") -> tuple[Path, Path]:
    """``metrics{suffix}.json`` and ``predictions{suffix}.json`` in the run folder, each
    written atomically; returns their paths."""
    metrics, predictions = run.path / f"metrics{suffix}.json", run.path / f"predictions{suffix}.json"
    write_json(predictions, {"results": result.results()})
    write_json(metrics, result.metrics)
    return metrics, predictions


# -- predicting ---------------------------------------------------------------------------------
def evaluate_bundle(bundle: ModelBundle, pool: Pool, cfg: TrainConfig, *, progress: bool = False) -> EvalResult:
    """Predict every problem of ``pool`` (the first ``cfg.eval.limit``) and score them."""
    if cfg.eval.limit is not None and cfg.eval.limit < len(pool):
        pool = pool.subset(np.arange(cfg.eval.limit))
    if cfg.eval.mode == "likelihood":
        predictions = predict_likelihood(bundle, pool, cfg, progress=progress)
    else:
        predictions = predict_generate(bundle, pool, cfg, progress=progress)
    metrics = score_predictions(pool, predictions)
    metrics.update({"mode": cfg.eval.mode, "split": cfg.eval.split, "dataset": pool.reference.loader,
                    "dataset_fingerprint": pool.fingerprint})
    return EvalResult(list(pool.ids), predictions, metrics)


def _prompts(bundle: ModelBundle, pool: Pool, cfg: TrainConfig) -> list[tuple[list[int], int | None]]:
    """Prompt token ids (image tokens expanded) and image position for every problem."""
    from vlprune.train.data import make_encoder, problem_prompt

    encoder = make_encoder(bundle, cfg)
    out = []
    for pos, record in enumerate(pool.table.to_dict("records")):
        use_image = bool(record["image"]) and bool(record["image_path"])
        out.append((encoder.prompt_ids(problem_prompt(record, use_image=use_image)), pos if use_image else None))
    return out


def _letter_continuations(bundle: ModelBundle, n: int, before: str = "") -> tuple[list[int], list[list[int]]]:
    """Token ids of ``{before} The answer is X.`` for X in the first ``n`` letters, split into
    the part shared by all and each letter's own tokens (shared tail removed)."""
    return _option_continuations(bundle, [""] * n, "letter", before)


def _option_continuations(bundle: ModelBundle, choices: list[str], answer: str,
                          before: str = "") -> tuple[list[int], list[list[int]]]:
    """Token ids of ``{before} The answer is ...`` naming each option in the ``answer`` format,
    split into the part shared by all options (the head, a prefix of the prompt's
    continuation) and each option's own tokens, with the tail they all share removed. Each
    option keeps at least one token, so options that a prefix separates (``cat`` and
    ``cat food``) differ in what follows it."""
    tok = bundle.tokenizer
    before = f"{before} " if before else ""
    seqs = [list(tok(before + format_option_answer(choices, i, answer=answer), add_special_tokens=False)
                 ["input_ids"]) for i in range(len(choices))]
    shortest = min(len(s) for s in seqs)
    head = 0
    while head < shortest - 1 and len({s[head] for s in seqs}) == 1:
        head += 1
    tail = 0
    while all(len(s) - tail > head + 1 for s in seqs) and len({s[len(s) - 1 - tail] for s in seqs}) == 1:
        tail += 1
    return seqs[0][:head], [s[head:len(s) - tail] for s in seqs]


def predict_likelihood(bundle: ModelBundle, pool: Pool, cfg: TrainConfig, *, progress: bool = False) -> np.ndarray:
    """The option whose answer (in the trained ``data.answer`` format) has the highest
    log-probability after the prompt (for a model trained to reason first, after the
    reasoning it writes greedily); ties go to the first option."""
    reasoning = None
    if cfg.data.target != "A":
        reasoning = [text.split(ANSWER_PREFIX)[0].strip()
                     for text in generate_answers(bundle, pool, cfg, progress=progress)]
    return likelihood_scores(bundle, pool, cfg, progress=progress, reasoning=reasoning).argmax(axis=1)


@torch.no_grad()
def likelihood_scores(bundle: ModelBundle, pool: Pool, cfg: TrainConfig, *, progress: bool = False,
                      reasoning: list[str] | None = None) -> np.ndarray:
    """Log-probability of each option's answer (rows: problems; ``-inf`` past a problem's
    choices) after the prompt and the problem's ``reasoning`` text when given: the tokens
    where the options' answer sentences differ (:func:`_option_continuations`)."""
    from tqdm.auto import tqdm

    from vlprune.train.data import Example, ExampleDataset

    model = bundle.model.eval()
    device = next(model.parameters()).device
    prompts = _prompts(bundle, pool, cfg)
    n_choices = pool.table["choices"].map(len).to_numpy()
    answer = cfg.data.answer
    shared = _letter_continuations(bundle, int(n_choices.max()))
    # Rows: (input ids, image position, problem, [(option, first scored position, token ids)]).
    rows: list[tuple[list[int], int | None, int, list[tuple[int, list[int]]]]] = []
    for p, ((ids, image), choices) in enumerate(zip(prompts, pool.table["choices"], strict=True)):
        before = reasoning[p] if reasoning and reasoning[p] else ""
        if answer != "letter":
            head, options = _option_continuations(bundle, list(choices), answer, before)
        else:
            head, letters = _letter_continuations(bundle, int(n_choices.max()), before) if before else shared
            options = letters[:n_choices[p]]
        prefix = ids + head
        if all(len(t) == 1 for t in options):
            rows.append((prefix, image, p, [(o, t) for o, t in enumerate(options)]))
        else:  # multi-token answers: one teacher-forced row per option
            for o, t in enumerate(options):
                rows.append((prefix + t[:-1], image, p, [(o, t)]))
    scores = np.full((len(pool), int(n_choices.max())), -np.inf)
    images = ExampleDataset([Example("", [], [], r[1]) for r in rows], pool, bundle.image_processor)
    order = sorted(range(len(rows)), key=lambda r: len(rows[r][0]))  # similar lengths together
    bs = cfg.eval.batch_size
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")
    for start in tqdm(range(0, len(order), bs), desc="eval", unit="batch", disable=not progress):
        chunk = [rows[r] for r in order[start:start + bs]]
        width = max(len(r[0]) for r in chunk)
        input_ids = torch.full((len(chunk), width), bundle.tokenizer.pad_token_id, dtype=torch.long)
        attention = torch.zeros_like(input_ids)
        for i, r in enumerate(chunk):
            input_ids[i, :len(r[0])] = torch.tensor(r[0])
            attention[i, :len(r[0])] = 1
        pix = [images.pixels(r[1]) for r in chunk if r[1] is not None]
        with autocast:
            hidden = model.model(input_ids=input_ids.to(device), attention_mask=attention.to(device),
                                 pixel_values=torch.stack(pix).to(device) if pix else None).last_hidden_state
        for i, (ids, _, p, queries) in enumerate(chunk):
            for o, tokens in queries:
                # The hidden states whose next token is each of the letter's tokens.
                first = len(ids) - len(tokens)
                positions = torch.arange(first, first + len(tokens), device=device)
                logp = torch.log_softmax(model.lm_head(hidden[i, positions]).float(), dim=-1)
                scores[p, o] = float(logp[torch.arange(len(tokens)), torch.tensor(tokens, device=device)].sum())
    return scores


def predict_generate(bundle: ModelBundle, pool: Pool, cfg: TrainConfig, *, progress: bool = False) -> np.ndarray:
    """Greedy generation, parsed like LLaVA's ScienceQA evaluation (``-1`` when unparsable)."""
    texts = generate_answers(bundle, pool, cfg, progress=progress)
    return np.array([parse_answer(t, len(c), choices=list(c), answer=cfg.data.answer)
                     for t, c in zip(texts, pool.table["choices"], strict=True)], dtype=np.int64)


@torch.no_grad()
def generate_answers(bundle: ModelBundle, pool: Pool, cfg: TrainConfig, *, progress: bool = False) -> list[str]:
    """The greedy continuation of every problem's prompt (batched, left-padded)."""
    from tqdm.auto import tqdm

    from vlprune.train.data import Example, ExampleDataset

    model = bundle.model.eval()
    device = next(model.parameters()).device
    tok = bundle.tokenizer
    prompts = _prompts(bundle, pool, cfg)
    images = ExampleDataset([Example("", [], [], im) for _, im in prompts], pool, bundle.image_processor)
    answers = [""] * len(pool)
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i][0]))
    bs = cfg.eval.batch_size
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")
    for start in tqdm(range(0, len(order), bs), desc="generate", unit="batch", disable=not progress):
        chunk = order[start:start + bs]
        width = max(len(prompts[i][0]) for i in chunk)
        input_ids = torch.full((len(chunk), width), tok.pad_token_id, dtype=torch.long)
        attention = torch.zeros_like(input_ids)
        for row, i in enumerate(chunk):  # left padding: every prompt ends where generation starts
            ids = prompts[i][0]
            input_ids[row, width - len(ids):] = torch.tensor(ids)
            attention[row, width - len(ids):] = 1
        pix = [images.pixels(prompts[i][1]) for i in chunk if prompts[i][1] is not None]
        kwargs = {"pixel_values": torch.stack(pix).to(device)} if pix else {}
        with autocast:
            out = model.generate(input_ids=input_ids.to(device), attention_mask=attention.to(device),
                                 max_new_tokens=cfg.eval.max_new_tokens, do_sample=False,
                                 pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id, **kwargs)
        texts = tok.batch_decode(out[:, width:], skip_special_tokens=True)
        for i, text in zip(chunk, texts, strict=True):
            answers[i] = text
    return answers
