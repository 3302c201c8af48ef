"""A model's answers to ScienceQA problems: predictions by likelihood or generation, their
metrics, and the result files. (:func:`vlprune.train.evaluate` rebuilds a finished run's model
and calls this.)

Two deterministic modes:

- ``likelihood`` (default, fast): after the prompt and ``The answer is``, the option letter
  with the highest log-probability is the prediction. When each letter is one token (the
  usual case) one forward pass scores all options at once. A model trained to reason first
  (``data.target`` EA or LEA) first writes its reasoning greedily, and the letters are
  scored after that reasoning and ``The answer is``, as its training sequences had them.
- ``generate``: greedy decoding, parsed the way LLaVA's ScienceQA evaluation parses it
  (a bare letter, ``"X. ..."``, or exactly one ``The answer is X.``). An answer that cannot
  be parsed counts as wrong and is recorded as ``-1`` (LLaVA's script guesses at random).

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
def parse_answer(text: str, n_choices: int) -> int:
    """The choice index in a generated answer, parsed as LLaVA's ScienceQA evaluation does;
    -1 when there is none (or it names no option).

    Example:
        >>> parse_answer("Wolves have fur. The answer is B.", 3), parse_answer("C", 3), parse_answer("maybe", 3)
        (1, 2, -1)
    """
    options = [answer_letter(i) for i in range(n_choices)]
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
    tok = bundle.tokenizer
    before = f"{before} " if before else ""
    seqs = [list(tok(f"{before}{ANSWER_PREFIX} {answer_letter(i)}.", add_special_tokens=False)["input_ids"])
            for i in range(n)]
    head = 0
    while all(len(s) > head for s in seqs) and len({s[head] for s in seqs}) == 1:
        head += 1
    tail = 0
    while all(len(s) - tail > head + 1 for s in seqs) and len({s[len(s) - 1 - tail] for s in seqs}) == 1:
        tail += 1
    return seqs[0][:head], [s[head:len(s) - tail] for s in seqs]


def predict_likelihood(bundle: ModelBundle, pool: Pool, cfg: TrainConfig, *, progress: bool = False) -> np.ndarray:
    """The option letter with the highest log-probability after the prompt and "The answer is"
    (for a model trained to reason first, after the reasoning it writes greedily)."""
    reasoning = None
    if cfg.data.target != "A":
        reasoning = [text.split(ANSWER_PREFIX)[0].strip()
                     for text in generate_answers(bundle, pool, cfg, progress=progress)]
    return likelihood_scores(bundle, pool, cfg, progress=progress, reasoning=reasoning).argmax(axis=1)


@torch.no_grad()
def likelihood_scores(bundle: ModelBundle, pool: Pool, cfg: TrainConfig, *, progress: bool = False,
                      reasoning: list[str] | None = None) -> np.ndarray:
    """Log-probability of each option letter (rows: problems; ``-inf`` past a problem's
    choices) after the prompt, the problem's ``reasoning`` text when given, and "The answer is"."""
    from tqdm.auto import tqdm

    from vlprune.train.data import Example, ExampleDataset

    model = bundle.model.eval()
    device = next(model.parameters()).device
    prompts = _prompts(bundle, pool, cfg)
    n_choices = pool.table["choices"].map(len).to_numpy()
    shared = _letter_continuations(bundle, int(n_choices.max()))
    # Rows: (input ids, image position, problem, [(option, first scored position, token ids)]).
    rows: list[tuple[list[int], int | None, int, list[tuple[int, list[int]]]]] = []
    for p, (ids, image) in enumerate(prompts):
        head, letters = (_letter_continuations(bundle, int(n_choices.max()), reasoning[p])
                         if reasoning and reasoning[p] else shared)
        prefix = ids + head
        options = letters[:n_choices[p]]
        if all(len(t) == 1 for t in options):
            rows.append((prefix, image, p, [(o, t) for o, t in enumerate(options)]))
        else:  # multi-token letters: one teacher-forced row per option
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
    n_choices = pool.table["choices"].map(len).to_numpy()
    return np.array([parse_answer(t, int(n)) for t, n in zip(texts, n_choices, strict=True)], dtype=np.int64)


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
