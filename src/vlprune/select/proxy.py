"""The proxy model and the model-based difficulty scores it gives (EL2N, loss, margin).

**The model** (:class:`BilinearProbe`): frozen text embeddings of a problem's context
(question, hint, caption: captions stand in for pixels) and of each answer choice; a bilinear
classifier ``score(q, c) = c . (W q + b)`` over the record's choices, trained with softmax
cross-entropy by Adam from zero (a convex fit). It is the core of compare's ``probe`` scorer,
which trains it on a subset and predicts the test split; here it scores the pool itself.

**The scores** (:class:`ProxyScore`, registered as ``el2n``, ``loss`` and ``margin``; higher
= harder). The pool is split at random (from ``seed``) into ``folds`` parts; for each part a
probe is trained briefly (``epochs`` Adam steps) on a random slice of at most
``train_size`` records of the *other* parts, then scores the part it never saw, so every
record is scored out of sample by a model of the same budget:

* ``el2n``: the L2 norm of (predicted distribution over the record's choices - one-hot
  answer) (Paul et al. 2021, "Deep Learning on a Data Diet", computed early in training);
* ``loss``: the cross-entropy of the answer;
* ``margin``: the best wrong choice's probability minus the answer's (in [-1, 1]; the
  negated margin of Pleiss et al. 2020's AUM, so that higher is harder).

One fit gives all three; they are cached together on disk (``cache_dir("scores")``), keyed
by the pool's fingerprint, the embedder's fingerprint, the context fields, every proxy
setting and the seed, so ``el2n`` and ``margin`` of the same pool cost one computation, once.

Cost: embedding the contexts and the distinct choice texts once (the embedding cache; MiniLM
on 12k ScienceQA problems takes about a minute on 2 CPU cores), then ``folds`` fits of
``epochs`` full-batch steps on at most ``train_size`` records each, and one scoring pass
over the pool in blocks: seconds for ScienceQA (``benchmarks/bench_proxy_scores.py``).
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

import numpy as np

from vlprune.errors import ConfigError
from vlprune.numeric import l2_normalise
from vlprune.params import Range, make_rng
from vlprune.select.scores import DifficultyScore, register_score

if TYPE_CHECKING:
    from vlprune.data.pool import Pool

log = logging.getLogger("vlprune")

#: Bump when the scores' computation changes (invalidates cached scores).
SCORES_VERSION = 1
#: Rows per block when scoring (bounds the (rows, choices, d) gather to ~100 MB at d = 384).
SCORE_BLOCK = 16_384


# -- the text features ----------------------------------------------------------------------------
def check_context_fields(fields: Sequence[str], *, what: str) -> None:
    """The probe's context fields: one or more text fields of a record, or ``choices``."""
    from vlprune.data.schema import TEXT_FIELDS

    allowed = (*TEXT_FIELDS, "choices")
    if not list(fields) or any(f not in allowed for f in fields):
        raise ConfigError(f"{what}: context_fields must be one or more of {', '.join(allowed)}, "
                          f"not {list(fields)!r}")


def text_pool(texts: Sequence[str]) -> Pool:
    """Wrap free texts as a pool (one record per text) so that any Embedder can embed them."""
    from vlprune.data.pool import DatasetRef, Pool, records_to_table

    records = [{"id": str(i), "split": "train", "question": t, "choices": [], "answer": -1,
                "image_path": ""} for i, t in enumerate(texts)]
    return Pool(records_to_table(records), DatasetRef("texts", None, None))


@dataclass
class ProbeFeatures:
    """Embedded contexts of one or more pools and the shared choice vocabulary.

    ``contexts[p]`` is pool p's (n_p, d) unit-length context matrix; ``choices`` the (V, d)
    unit-length vectors of the distinct choice texts, indexed by ``choice_index``."""

    contexts: list[np.ndarray]
    choices: np.ndarray
    choice_index: dict[str, int]

    @classmethod
    def embed(cls, pools: Sequence[Pool], embedder: Any, context_fields: Sequence[str]) -> ProbeFeatures:
        """Embed every pool's contexts and all their choice texts in one call of the
        embedding cache (so the vectors are computed once per set of pools)."""
        from vlprune.embed.cache import cached_embed

        fields = list(context_fields)
        contexts = [text for pool in pools for text in pool.texts(fields)]
        choice_texts = sorted({c for pool in pools for cs in pool.table["choices"] for c in cs})
        vectors = l2_normalise(cached_embed(embedder, text_pool(contexts + choice_texts)))
        bounds = np.cumsum([0, *(len(p) for p in pools)])
        return cls([vectors[a:b] for a, b in itertools.pairwise(bounds)],
                   vectors[len(contexts):], {c: i for i, c in enumerate(choice_texts)})


def choice_arrays(pool: Pool, positions: np.ndarray, choice_index: dict[str, int]
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The choices of the records at ``positions`` as vocabulary ids ``(m, width)``, their
    mask (True where a choice exists) and the answers ``(m,)``."""
    rows = pool.table.iloc[np.asarray(positions, dtype=np.int64)]
    width = max(2, max((len(cs) for cs in rows["choices"]), default=2))
    ids = np.zeros((len(rows), width), dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=bool)
    for r, cs in enumerate(rows["choices"]):
        ids[r, :len(cs)] = [choice_index[c] for c in cs]
        mask[r, :len(cs)] = True
    return ids, mask, rows["answer"].to_numpy(dtype=np.int64, copy=True)


@contextlib.contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Run torch with ``threads`` threads inside the block. The probe's matrices are small:
    one thread is as fast and does not fight other processes for cores (oversubscription
    made it 5x slower on a busy 2-core machine)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


# -- the model --------------------------------------------------------------------------------------
class BilinearProbe:
    """``score(q, c) = c . (W q + b)`` over each record's choices, fitted by Adam from zero.

    Args:
        epochs: passes over the training records.
        lr, weight_decay: Adam's settings.
        batches: Adam steps per pass; 1 is full-batch (deterministic: the fit is convex and
            starts from zero). With more, each pass shuffles the records with ``rng``
            (which ``fit`` then requires) and splits them into ``batches`` nearly equal
            minibatches (one step per record when there are fewer records than batches).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> choices = l2_normalise(rng.normal(size=(6, 4)))      # a vocabulary of 6 choices
        >>> q = l2_normalise(rng.normal(size=(40, 4)))           # 40 contexts
        >>> ids, mask = rng.integers(0, 6, size=(40, 3)), np.ones((40, 3), dtype=bool)
        >>> answer = np.einsum("rwd,rd->rw", choices[ids], q).argmax(1)  # the choice nearest the context
        >>> probe = BilinearProbe(epochs=200, lr=0.1).fit(q, ids, mask, answer, choices)
        >>> float((probe.predict(q, ids, mask) == answer).mean()) > 0.9
        True
    """

    def __init__(self, epochs: int = 300, lr: float = 0.01, weight_decay: float = 1e-4, batches: int = 1) -> None:
        self.epochs = epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.batches = batches

    def fit(self, q: np.ndarray, ids: np.ndarray, mask: np.ndarray, answer: np.ndarray, choices: np.ndarray,
            *, rng: np.random.Generator | None = None) -> BilinearProbe:
        """Train on contexts ``q`` (m, dq), choice ids/mask (m, width), answers (m,) and the
        choice vocabulary ``choices`` (V, dc). Sets ``final_loss_`` (the training loss after
        the last step, on all the training records)."""
        import torch

        n = len(q)
        if n == 0:
            raise ConfigError("the probe needs at least one training example")
        if self.batches > 1 and rng is None:
            raise ConfigError("minibatch training draws its order from a seed: pass rng")
        self.choices_ = torch.from_numpy(np.ascontiguousarray(choices, dtype=np.float32))
        tq, tids = torch.from_numpy(np.ascontiguousarray(q, dtype=np.float32)), torch.from_numpy(ids)
        tmask, tanswer = torch.from_numpy(mask), torch.from_numpy(answer)
        # Zero initialisation makes the convex fit independent of torch's global RNG.
        self.W_ = torch.zeros(self.choices_.shape[1], tq.shape[1], requires_grad=True)
        self.b_ = torch.zeros(self.choices_.shape[1], requires_grad=True)
        opt = torch.optim.Adam([self.W_, self.b_], lr=self.lr, weight_decay=self.weight_decay)
        for _ in range(self.epochs):
            order = rng.permutation(n) if self.batches > 1 else np.arange(n)
            for batch in np.array_split(order, min(self.batches, n)):
                idx = torch.from_numpy(batch) if self.batches > 1 else slice(None)
                opt.zero_grad()
                loss = torch.nn.functional.cross_entropy(self._logits(tq[idx], tids[idx], tmask[idx]), tanswer[idx])
                loss.backward()
                opt.step()
        with torch.no_grad():
            self.final_loss_ = float(torch.nn.functional.cross_entropy(self._logits(tq, tids, tmask), tanswer))
        return self

    def _logits(self, q, ids, mask):
        c = self.choices_[ids]                                       # (m, width, dc)
        s = (c @ (q @ self.W_.T + self.b_).unsqueeze(2)).squeeze(2)  # c.(W q + b), one matmul each
        return s.masked_fill(~mask, float("-inf"))

    def logits(self, q: np.ndarray, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """(m, width) float32 scores, -inf where ``mask`` is False; computed in blocks."""
        import torch

        out = np.empty(ids.shape, dtype=np.float32)
        with torch.no_grad():
            for start in range(0, len(q), SCORE_BLOCK):
                stop = start + SCORE_BLOCK
                out[start:stop] = self._logits(torch.from_numpy(np.ascontiguousarray(q[start:stop], dtype=np.float32)),
                                               torch.from_numpy(ids[start:stop]),
                                               torch.from_numpy(mask[start:stop])).numpy()
        return out

    def predict(self, q: np.ndarray, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The predicted choice (column of ``ids``) per record."""
        return self.logits(q, ids, mask).argmax(axis=1)


def difficulty_from_logits(logits: np.ndarray, mask: np.ndarray, answer: np.ndarray) -> dict[str, np.ndarray]:
    """EL2N, loss and margin (see the module docstring) from (m, width) logits.

    Example:
        >>> d = difficulty_from_logits(np.array([[2.0, 0.0], [0.0, 0.0]]), np.ones((2, 2), bool), np.array([0, 1]))
        >>> [round(float(v), 3) for v in d["margin"]], [round(float(v), 3) for v in d["el2n"]]
        ([-0.762, 0.0], [0.169, 0.707])
    """
    z = np.where(mask, logits.astype(np.float64), -np.inf)
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    rows = np.arange(len(p))
    onehot = np.zeros_like(p)
    onehot[rows, answer] = 1.0
    p_answer = p[rows, answer]
    others = np.where(onehot > 0, -np.inf, np.where(mask, p, -np.inf))
    return {
        "el2n": np.sqrt(((p - onehot) ** 2).sum(axis=1)),
        "loss": -np.log(np.maximum(p_answer, 1e-300)),
        "margin": others.max(axis=1) - p_answer,
    }


def cross_fitted_difficulty(q: np.ndarray, ids: np.ndarray, mask: np.ndarray, answer: np.ndarray,
                            choices: np.ndarray, *, folds: int = 2, train_size: int | None = 20_000,
                            epochs: int = 100, lr: float = 0.01, weight_decay: float = 1e-4,
                            seed: int = 0) -> dict[str, np.ndarray]:
    """EL2N, loss and margin of every record from probes that never saw it (the module
    docstring's procedure), on ready arrays (what :class:`ProxyScore` computes from a pool).
    torch runs on one thread meanwhile (see :func:`torch_threads`)."""
    n = len(q)
    if n < folds:
        raise ConfigError(f"cross-fitting with {folds} folds needs at least {folds} records, got {n}")
    with torch_threads(1):
        return _cross_fit(q, ids, mask, answer, choices, folds, train_size, epochs, lr, weight_decay, seed)


def _cross_fit(q, ids, mask, answer, choices, folds, train_size, epochs, lr, weight_decay, seed):
    n = len(q)
    rng = make_rng(seed)
    fold_of = rng.permutation(n) % folds
    out = {name: np.empty(n) for name in ("el2n", "loss", "margin")}
    for f in range(folds):
        held = np.flatnonzero(fold_of == f)
        rest = np.flatnonzero(fold_of != f)
        if train_size is not None and len(rest) > train_size:
            rest = np.sort(rng.choice(rest, train_size, replace=False))
        probe = BilinearProbe(epochs=epochs, lr=lr, weight_decay=weight_decay)
        probe.fit(q[rest], ids[rest], mask[rest], answer[rest], choices)
        for start in range(0, len(held), SCORE_BLOCK):  # block by block: no copy of the held rows
            rows = held[start:start + SCORE_BLOCK]
            scores = difficulty_from_logits(probe.logits(q[rows], ids[rows], mask[rows]), mask[rows], answer[rows])
            for name, values in scores.items():
                out[name][rows] = values
        log.debug("proxy fold %d/%d: trained on %d, scored %d, train loss %.3f", f + 1, folds, len(rest),
                  len(held), probe.final_loss_)
    return out


# -- the scores --------------------------------------------------------------------------------------
class ProxyScore(DifficultyScore):
    """A proxy model's difficulty of each record (see the module docstring).

    Args:
        embedder: the text embedder spec for contexts and choices (``minilm``).
        context_fields: record fields joined into the context text.
        folds: cross-fitting folds (each record is scored by a probe trained without it).
        train_size: at most this many records train each fold's probe (a random slice of
            the other folds; None: all of them).
        epochs, lr, weight_decay: the probe's full-batch Adam training ("briefly": EL2N is
            an early-training score).
        seed: draws the folds and slices. The scores are a property of the pool and these
            settings, not of a selection's seed: every selection seed reuses the cache.
    """

    measure: ClassVar[Literal["el2n", "loss", "margin"]] = "el2n"

    def __init__(self, embedder: str = "minilm",
                 context_fields: tuple[str, ...] = ("question", "hint", "caption"),
                 folds: Annotated[int, Range(2)] = 2,
                 train_size: Annotated[int, Range(1)] | None = 20_000,
                 epochs: Annotated[int, Range(1)] = 100,
                 lr: Annotated[float, Range(0, lo_open=True)] = 0.01,
                 weight_decay: Annotated[float, Range(0)] = 1e-4,
                 seed: Annotated[int, Range(0)] = 0) -> None:
        self.embedder = embedder
        self.context_fields = context_fields
        self.folds = folds
        self.train_size = train_size
        self.epochs = epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.seed = seed

    def _validate(self) -> None:
        from vlprune.embed.spec import get_embedder

        get_embedder(self.embedder)  # an unknown embedder fails here, before any work
        check_context_fields(self.context_fields, what=self.label())

    def cache_key(self, pool: Pool) -> str:
        """What the cached scores depend on: the pool, the embedder, every setting but the
        measure (one fit gives all three)."""
        from vlprune.embed.spec import get_embedder

        settings = {k: v for k, v in self.json_params().items() if k != "embedder"}
        key = json.dumps({"version": SCORES_VERSION, "pool": pool.fingerprint,
                          "embedder": get_embedder(self.embedder).fingerprint, "settings": settings},
                         sort_keys=True)
        return hashlib.sha256(key.encode()).hexdigest()[:24]

    def all_measures(self, pool: Pool) -> dict[str, np.ndarray]:
        """EL2N, loss and margin of every record, from the cache or computed (and cached)."""
        from vlprune.io import atomic_path, cache_dir

        path = cache_dir("scores") / f"proxy-{self.cache_key(pool)}.npz"
        if path.exists():
            try:
                with np.load(path) as stored:
                    loaded = {name: stored[name] for name in ("el2n", "loss", "margin")}
                if all(v.shape == (len(pool),) for v in loaded.values()):
                    log.debug("proxy scores from cache %s", path)
                    return loaded
            except (OSError, ValueError, KeyError):
                pass
            log.warning("proxy score cache entry %s is unusable; recomputing it", path)
        if "answer" not in pool.table or (pool.table["answer"] < 0).any():
            raise ConfigError("proxy difficulty scores need every record's answer; this pool has records "
                              "without one")
        features = ProbeFeatures.embed([pool], self.embedder, self.context_fields)
        ids, mask, answer = choice_arrays(pool, np.arange(len(pool)), features.choice_index)
        log.info("proxy scores: %d folds of %d epochs on %d records", self.folds, self.epochs, len(pool))
        measures = cross_fitted_difficulty(
            features.contexts[0], ids, mask, answer, features.choices, folds=self.folds,
            train_size=self.train_size, epochs=self.epochs, lr=self.lr, weight_decay=self.weight_decay,
            seed=self.seed)
        try:
            with atomic_path(path) as tmp:
                with open(tmp, "wb") as handle:
                    np.savez(handle, **measures)
        except OSError as exc:  # a read-only or full cache must not fail the run
            log.warning("could not write proxy score cache entry %s: %s", path, exc)
        return measures

    def _compute(self, pool):
        return self.all_measures(pool)[self.measure]


@register_score("el2n")
class EL2NScore(ProxyScore):
    __doc__ = ProxyScore.__doc__
    measure = "el2n"


@register_score("loss")
class LossScore(ProxyScore):
    __doc__ = ProxyScore.__doc__
    measure = "loss"


@register_score("margin")
class MarginScore(ProxyScore):
    __doc__ = ProxyScore.__doc__
    measure = "margin"
