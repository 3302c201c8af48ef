"""TF-IDF text embeddings (scikit-learn), reduced to a dense vector with truncated SVD."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from vlprune.embed.base import Embedder, register_embedder
from vlprune.numeric import l2_normalise


@register_embedder("tfidf")
class TfidfEmbedder(Embedder):
    """TF-IDF of the question, hint and choices, reduced to ``dim`` dimensions (LSA) and
    L2-normalised. Needs no model weights.

    Args:
        fields: record fields joined into one text per record.
        dim: output dimension (truncated SVD; at most the vocabulary size - 1).
        max_features: vocabulary cap, most frequent terms kept.
        ngram_max: 1 for words, 2 for words and word pairs.

    Example:
        >>> from vlprune import load_pool
        >>> X = TfidfEmbedder(dim=8).embed(load_pool("synthetic", size="tiny"))
        >>> bool(np.allclose(np.linalg.norm(X, axis=1), 1, atol=1e-4))
        True
    """

    def __init__(
        self,
        fields: Sequence[str] = ("question", "hint", "choices"),
        dim: int = 256,
        max_features: int = 50_000,
        ngram_max: int = 2,
    ) -> None:
        self.fields = fields
        self.dim = dim
        self.max_features = max_features
        self.ngram_max = ngram_max

    def _embed(self, pool):
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        texts = [t or "(empty)" for t in pool.texts(tuple(self.fields))]
        tfidf = TfidfVectorizer(max_features=self.max_features, ngram_range=(1, self.ngram_max),
                                sublinear_tf=True, dtype=np.float32).fit_transform(texts)
        dim = min(self.dim, tfidf.shape[1] - 1, len(texts) - 1)
        if dim < 1:
            return np.asarray(tfidf.todense(), dtype=np.float32)
        X = TruncatedSVD(n_components=dim, random_state=0).fit_transform(tfidf).astype(np.float32)
        X = l2_normalise(X, out=X)
        if X.shape[1] < self.dim:  # keep the promised width for tiny pools
            X = np.pad(X, ((0, 0), (0, self.dim - X.shape[1])))
        return X
