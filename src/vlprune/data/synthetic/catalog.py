"""The SYNTHETIC dataset's curriculum: every skill, in order of frequency, with its sampling weight.

Skill frequencies follow a Zipf-Mandelbrot law, ``weight(rank) = (rank + Q) ** -A``, so the
most common skill gets hundreds of times more problems than the rarest. Ranks interleave image
and text skills near the head so that about half of all problems carry an image, and the head
holds the skills with the most regular, learnable structure.
"""

from __future__ import annotations

import numpy as np

from vlprune.data.synthetic import language, natural, social
from vlprune.data.synthetic.core import Skill, build_skills

#: Skills from most to least frequent.
RANKING: tuple[str, ...] = (
    "colors", "tense", "moon", "animal_class", "counting", "end_punctuation", "continents", "weather_climate",
    "magnets_attract", "goods_services", "shapes", "push_pull", "balance", "states", "plant_parts", "fast_slow",
    "oceans", "inherited_acquired", "compass_map", "thermal", "highlighted_state", "rhymes", "circuits",
    "capitals", "thermometer", "changes", "clock", "vertebrates", "rainfall", "parts_of_speech", "food_web",
    "synonyms", "molecules", "properties", "concentration", "length_units", "magnets_force", "antonyms",
    "ruler", "abc_order", "line_graph", "fact_opinion", "budget_pie", "reading", "conductors", "sentence_kinds",
    "fragments", "rocks_minerals", "speed", "agreement", "country_continent", "magnetic_materials",
    "supply_demand", "vowels", "branches", "resources", "capitalization", "organelles", "mass_units", "idioms",
    "rock_types", "planets", "price_table", "figures", "genotype", "timeline", "compounds", "adaptations",
    "volume_units", "syllables", "formulas", "prefixes", "colonies", "guide_words", "amendments",
    "civilizations",
)
#: Zipf-Mandelbrot parameters: about 11% of problems in the top skill, about 0.06% in the last.
ZIPF_Q = 20.0
ZIPF_A = 3.5


def _ordered() -> tuple[Skill, ...]:
    # The catalogue is data: each subject module holds a table of its skills (a row per skill,
    # next to the facts its lecture lists), and one builder turns every table into Skills.
    built = [s for module in (natural, social, language) for s in build_skills(module.SUBJECT, module.SKILL_TABLE)]
    by_key = {s.key: s for s in built}
    if len(by_key) != len(built):
        raise RuntimeError("two synthetic skills share a key")
    missing = set(by_key) ^ set(RANKING)
    if missing or len(RANKING) != len(set(RANKING)):
        raise RuntimeError(f"RANKING and the skill definitions disagree: {sorted(missing)}")
    return tuple(by_key[k] for k in RANKING)


SKILLS: tuple[Skill, ...] = _ordered()
SKILL_INDEX: dict[str, int] = {s.key: i for i, s in enumerate(SKILLS)}

_raw = (np.arange(1, len(SKILLS) + 1) + ZIPF_Q) ** -ZIPF_A
WEIGHTS: np.ndarray = _raw / _raw.sum()
CUMULATIVE: np.ndarray = np.cumsum(WEIGHTS)
CUMULATIVE[-1] = 1.0


def skill_table() -> list[dict[str, object]]:
    """One row per skill (for docs and summaries): labels, grades, image or not, weight."""
    return [{"subject": s.subject, "topic": s.topic, "category": s.category, "skill": s.name, "key": s.key,
             "grades": s.grades, "image": s.image, "weight": float(w)} for s, w in zip(SKILLS, WEIGHTS, strict=True)]
