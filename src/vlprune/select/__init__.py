"""Selectors: pick k records of a pool. One protocol (:class:`Selector`), one registry."""

from vlprune.select.base import Selection, Selector, get_selector, register_selector, selectors
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

__all__ = [
    "CCSSelector",
    "ClusterBalancedSelector",
    "D2PruningSelector",
    "DifficultySelector",
    "FacilityLocationSelector",
    "FarthestPointSelector",
    "HandRuleSelector",
    "ImageFirstSelector",
    "PerGroupSelector",
    "PrototypesSelector",
    "RandomSelector",
    "Selection",
    "Selector",
    "SemDeDupSelector",
    "StratifiedSelector",
    "TopicCoverageSelector",
    "TypicalitySelector",
    "get_selector",
    "register_selector",
    "selectors",
]
