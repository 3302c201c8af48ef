"""Select 1,000 problems from a downloaded ScienceQA folder and export them for LLaVA.

    git clone https://github.com/lupantech/ScienceQA    # then download its images (see its README)
    python examples/select_scienceqa.py ScienceQA/data/scienceqa --k 1000

Works on the pixel-free sample too (captions stand in for missing images):

    python examples/select_scienceqa.py ../shared/data/scienceqa-sample --k 100
"""

from __future__ import annotations

import argparse

from vlprune import HandRuleSelector, RandomSelector, SubsetManifest, export_llava_json, load_pool
from vlprune.data.summary import format_summary, subset_summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", help="folder holding problems.json")
    parser.add_argument("--k", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    pool = load_pool("scienceqa", args.folder, split="train")
    for selector in (HandRuleSelector(by="skill"), RandomSelector()):
        selection = selector.select(pool, args.k, seed=args.seed)
        print(format_summary(subset_summary(pool, selection.positions), title=selection.selector))
        SubsetManifest.from_selection(selection, pool).save(f"subset_{selection.selector}.json")
        export_llava_json(pool, selection.positions, f"llava_{selection.selector}.json")
        print(f"wrote subset_{selection.selector}.json and llava_{selection.selector}.json\n")


if __name__ == "__main__":
    main()
