"""Embedder specs, as typed on the command line, to embedders.

- ``minilm`` -- a registered name;
- ``clip:openai/clip-vit-base-patch32`` or ``llava:/models/llava-mistral`` -- a name and the
  model (hub id or local folder) for embedders that take one;
- ``minilm+pixels*0.5`` -- a weighted :class:`~vlprune.embed.joint.JointEmbedder` of parts.
"""

from __future__ import annotations

from typing import Any

from vlprune.embed.base import Embedder, embedders, make_embedder
from vlprune.embed.joint import JointEmbedder
from vlprune.errors import ConfigError


def get_embedder(spec: str | Embedder, **params: Any) -> Embedder:
    """An embedder from a spec or an instance (returned as is).

    Specs: a name (``tfidf``), a name with its model (``clip:PATH`` sets ``model=PATH``), or
    a joint spec (``minilm+pixels``, weights as ``minilm*1.0+pixels*0.5``). ``params`` go to
    the embedder; for a joint spec (or ``default``) each goes to every part that takes it,
    and ``model`` to the one part that takes a model.

    Example:
        >>> get_embedder("tfidf+pixels*0.5").name
        'joint'
        >>> get_embedder("clip:/models/clip").model
        '/models/clip'
    """
    if isinstance(spec, str) and ("+" in spec or "*" in spec):
        parts = []
        for term in spec.split("+"):
            name, _, weight = term.strip().partition("*")
            try:
                parts.append((make_embedder(name.strip(), validate=False), float(weight) if weight else 1.0))
            except ValueError as exc:
                if isinstance(exc, ConfigError):
                    raise
                raise ConfigError(f"bad weight {weight!r} in embedder spec {spec!r}") from None
        joint = JointEmbedder(parts).with_params(**params) if params else JointEmbedder(parts)
        joint.validate()
        return joint
    if isinstance(spec, str) and params:
        cls = embedders.get(spec.partition(":")[0].strip())
        if issubclass(cls, JointEmbedder) and not cls.param_specs():  # ``default`` takes its parts' parameters
            joint = cls().with_params(**params)
            joint.validate()
            return joint
    return make_embedder(spec, **params)
