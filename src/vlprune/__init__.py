"""vlprune: prune visual-instruction-tuning data and score the subsets.

Public names are imported lazily, so ``import vlprune`` (and ``vlprune --help``) stays fast;
``from vlprune import FarthestPointSelector`` loads only what that name needs.

Example:
    >>> from vlprune import FarthestPointSelector, load_pool
    >>> pool = load_pool("synthetic", size="tiny")
    >>> selection = FarthestPointSelector(embedder="tfidf").select(pool, k=10, seed=0)
    >>> len(selection.ids)
    10
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vlprune._lazy import lazy_getattr
from vlprune._version import __version__

_EXPORTS = {
    "load_pool": "vlprune.data.loaders",
    "Pool": "vlprune.data.pool",
    "DatasetRef": "vlprune.data.pool",
    "export_llava_json": "vlprune.data.export",
    "Selection": "vlprune.select.base",
    "Selector": "vlprune.select.base",
    "get_selector": "vlprune.select.base",
    "register_selector": "vlprune.select.base",
    "RandomSelector": "vlprune.select.random",
    "StratifiedSelector": "vlprune.select.stratified",
    "HandRuleSelector": "vlprune.select.rules",
    "ImageFirstSelector": "vlprune.select.rules",
    "TopicCoverageSelector": "vlprune.select.rules",
    "DifficultySelector": "vlprune.select.rules",
    "FarthestPointSelector": "vlprune.select.farthest_point",
    "FacilityLocationSelector": "vlprune.select.facility_location",
    "CCSSelector": "vlprune.select.ccs",
    "D2PruningSelector": "vlprune.select.d2_pruning",
    "TypicalitySelector": "vlprune.select.typicality",
    "PrototypesSelector": "vlprune.select.prototypes",
    "SemDeDupSelector": "vlprune.select.semdedup",
    "ClusterBalancedSelector": "vlprune.select.cluster_balanced",
    "PerGroupSelector": "vlprune.select.per_group",
    "SubsetManifest": "vlprune.data.subset",
    "Embedder": "vlprune.embed.base",
    "get_embedder": "vlprune.embed.spec",
    "register_embedder": "vlprune.embed.base",
    "TrainConfig": "vlprune.train.config",
    "TrainResult": "vlprune.train.recipe",
    "evaluate": "vlprune.train.recipe",
    "cached_embed": "vlprune.embed.cache",
    "JointEmbedder": "vlprune.embed.joint",
    "MiniLMEmbedder": "vlprune.embed.minilm",
    "CLIPEmbedder": "vlprune.embed.clip",
    "LlavaEmbedder": "vlprune.embed.llava",
    "VlpruneError": "vlprune.errors",
    "DataError": "vlprune.errors",
    "ConfigError": "vlprune.errors",
}

__all__ = [
    "CCSSelector",
    "CLIPEmbedder",
    "ClusterBalancedSelector",
    "ConfigError",
    "D2PruningSelector",
    "DataError",
    "DatasetRef",
    "DifficultySelector",
    "Embedder",
    "FacilityLocationSelector",
    "FarthestPointSelector",
    "HandRuleSelector",
    "ImageFirstSelector",
    "JointEmbedder",
    "LlavaEmbedder",
    "MiniLMEmbedder",
    "PerGroupSelector",
    "Pool",
    "PrototypesSelector",
    "RandomSelector",
    "Selection",
    "Selector",
    "SemDeDupSelector",
    "StratifiedSelector",
    "SubsetManifest",
    "TopicCoverageSelector",
    "TrainConfig",
    "TrainResult",
    "TypicalitySelector",
    "VlpruneError",
    "__version__",
    "cached_embed",
    "evaluate",
    "export_llava_json",
    "get_embedder",
    "get_selector",
    "load_pool",
    "register_embedder",
    "register_selector",
]


__getattr__ = lazy_getattr(__name__, _EXPORTS, globals())


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:
    from vlprune.data.export import export_llava_json
    from vlprune.data.loaders import load_pool
    from vlprune.data.pool import DatasetRef, Pool
    from vlprune.data.subset import SubsetManifest
    from vlprune.embed.base import Embedder, register_embedder
    from vlprune.embed.cache import cached_embed
    from vlprune.embed.clip import CLIPEmbedder
    from vlprune.embed.joint import JointEmbedder
    from vlprune.embed.llava import LlavaEmbedder
    from vlprune.embed.minilm import MiniLMEmbedder
    from vlprune.embed.spec import get_embedder
    from vlprune.errors import ConfigError, DataError, VlpruneError
    from vlprune.select.base import Selection, Selector, get_selector, register_selector
    from vlprune.select.ccs import CCSSelector
    from vlprune.select.cluster_balanced import ClusterBalancedSelector
    from vlprune.select.d2_pruning import D2PruningSelector
    from vlprune.select.facility_location import FacilityLocationSelector
    from vlprune.select.farthest_point import FarthestPointSelector
    from vlprune.select.per_group import PerGroupSelector
    from vlprune.select.prototypes import PrototypesSelector
    from vlprune.select.random import RandomSelector
    from vlprune.select.rules import (
        DifficultySelector,
        HandRuleSelector,
        ImageFirstSelector,
        TopicCoverageSelector,
    )
    from vlprune.select.semdedup import SemDeDupSelector
    from vlprune.select.stratified import StratifiedSelector
    from vlprune.select.typicality import TypicalitySelector
    from vlprune.train.config import TrainConfig
    from vlprune.train.recipe import TrainResult, evaluate
