"""vlprune's built-in SYNTHETIC dataset: ScienceQA-shaped, generated, not real ScienceQA.

The problems are made up by templates over a small, fixed knowledge base and the pictures are
drawn with Pillow. The dataset copies ScienceQA's *shape* (its schema and file layout, three
subjects with a topic -> category -> skill hierarchy, grades 1-12, 2-5 choices, lectures and
solutions, about half the problems with a picture needed to answer them, long-tailed skill
frequencies, clusters of near-duplicates) so that data-pruning methods can be exercised end to
end without downloads. Numbers measured on it do not transfer to the real ScienceQA.

See ``docs/synthetic.md`` for the curriculum and the design.

Example:
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp()) / "syn"
    >>> generate_dataset(root, SIZES["tiny"], seed=0, workers=1)
    >>> sorted(p.name for p in root.iterdir())
    ['captions.json', 'images', 'pid_splits.json', 'problems.json']
"""

from __future__ import annotations

from vlprune.data.synthetic.generate import generate_dataset

#: Split sizes by name: "full" matches ScienceQA's 12,726 / 4,241 / 4,241.
SIZES: dict[str, dict[str, int]] = {
    "full": {"train": 12726, "val": 4241, "test": 4241},
    "small": {"train": 2000, "val": 500, "test": 500},
    "tiny": {"train": 200, "val": 50, "test": 50},
}
#: Bumped whenever the generated output changes (cached copies are keyed by it).
GENERATOR_VERSION: int = 3

__all__ = ["GENERATOR_VERSION", "SIZES", "generate_dataset"]
