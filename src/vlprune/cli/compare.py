"""``vlprune compare``: a grid of selectors x budgets x seeds, scored and summarised."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from vlprune.cli.common import add_dataset_options, assignments, comma_list, dataset_ref


def add_compare_parser(sub, common) -> None:
    p = sub.add_parser("compare", parents=[common],
                       help="score selectors against each other (and random) over budgets and seeds",
                       description="Select, train and evaluate every (selector, k, seed) cell; write "
                                   "results.csv, summary.md, learning_curve.png, categories.png and "
                                   "cost.png. The grid is checked whole before the first cell. "
                                   "Resumable: completed cells are skipped.")
    p.add_argument("--selectors", help="comma list of selector names (default: random)")
    p.add_argument("--k", help="comma list of budgets, e.g. 250,500,1000,2000 (required, unless the "
                               "--config file gives k)")
    p.add_argument("--seeds", help="number of seeds (5 -> 0,...,4; default 5) or a comma list")
    p.add_argument("--scorer", help="probe (fast proxy, default) or llava (the built-in trainer)")
    p.add_argument("--scorer-param", action="append", metavar="NAME=VALUE", help="scorer option (repeatable)")
    p.add_argument("--config", metavar="YAML", help="grid file; flags given here override it")
    p.add_argument("--eval-split", metavar="SPLIT",
                   help="split every cell is scored on (default test; dev to tune on --split tune)")
    p.add_argument("--no-full-data", action="store_true", help="skip the full-data reference row")
    p.add_argument("--out", required=True, help="output folder (reused to resume)")
    add_dataset_options(p)
    p.set_defaults(func=run_compare)


def run_compare(args: argparse.Namespace) -> int:
    from vlprune.compare import GridConfig, compare

    flags: dict[str, Any] = {}
    if args.selectors:
        flags["selectors"] = comma_list(args.selectors)
    if args.k:
        flags["k"] = comma_list(args.k, int)
    if args.seeds:
        seeds = comma_list(args.seeds, int)
        flags["seeds"] = seeds[0] if len(seeds) == 1 and "," not in args.seeds else seeds
    if args.scorer:
        flags["scorer"] = args.scorer
    if args.scorer_param:
        flags["scorer_params"] = assignments(args.scorer_param, "--scorer-param")
    if args.eval_split:
        flags["test_split"] = args.eval_split
    if args.no_full_data:
        flags["full_data"] = False
    if args.data or args.dataset != "synthetic" or args.size or args.data_seed is not None or args.split != "train" \
            or not args.config:
        flags["dataset"] = dataset_ref(args).to_dict()
    config = GridConfig.load(args.config, flags)
    compare(config, args.out, progress=sys.stderr.isatty())
    print((Path(args.out) / "summary.md").read_text())
    print(f"wrote {args.out}/results.csv, summary.md, learning_curve.png, categories.png, cost.png")
    return 0
