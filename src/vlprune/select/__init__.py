"""Selectors: pick k records of a pool. One protocol (:class:`Selector`), one registry."""

from vlprune.select.base import Selection, Selector, get_selector, register_selector, selectors
from vlprune.select.ccs import CCSSelector
from vlprune.select.d2_pruning import D2PruningSelector
from vlprune.select.facility_location import FacilityLocationSelector
from vlprune.select.farthest_point import FarthestPointSelector
from vlprune.select.random import RandomSelector
from vlprune.select.rules import (
    DifficultySelector,
    HandRuleSelector,
    ImageFirstSelector,
    TopicCoverageSelector,
)
from vlprune.select.stratified import StratifiedSelector

__all__ = [
    "CCSSelector",
    "D2PruningSelector",
    "DifficultySelector",
    "FacilityLocationSelector",
    "FarthestPointSelector",
    "HandRuleSelector",
    "ImageFirstSelector",
    "RandomSelector",
    "Selection",
    "Selector",
    "StratifiedSelector",
    "TopicCoverageSelector",
    "get_selector",
    "register_selector",
    "selectors",
]
