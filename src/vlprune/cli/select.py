"""``vlprune select`` and ``vlprune inspect``."""

from __future__ import annotations

import argparse
from typing import Any

from vlprune.cli.common import UsageError, add_dataset_options, assignments, load_pool_from_args


def selector_parameter_help() -> dict[str, str]:
    """Every constructor parameter of every registered selector -> its help: allowed values
    and default, per selector when they differ."""
    from vlprune.select.base import selectors

    users: dict[str, list[tuple[str, str]]] = {}
    for name, cls in selectors.items():
        for param, spec in cls.param_specs().items():
            users.setdefault(param, []).append((name, spec.help()))
    out = {}
    for param, entries in users.items():
        helps = {h for _, h in entries}
        names = ", ".join(n for n, _ in entries)
        out[param] = (f"{helps.pop()} ({names})" if len(helps) == 1
                      else "; ".join(f"{n}: {h}" for n, h in entries))
    return out


def add_select_parser(sub, common) -> None:
    p = sub.add_parser("select", parents=[common], help="choose k records of a dataset and write a subset manifest",
                       description="Choose k records and write the subset manifest (subset.json).")
    p.add_argument("--k", type=int, required=True, help="how many records to select")
    from vlprune.select.base import selectors

    p.add_argument("--selector", default="farthest-point",
                   help=f"{', '.join(selectors.names())} (default farthest-point), or a registered "
                        "plugin (docs/selectors.md)")
    p.add_argument("--seed", type=int, default=0, help="random seed, a non-negative integer (default 0)")
    p.add_argument("--out", default="subset.json", help="manifest to write (default subset.json)")
    p.add_argument("--export-llava", metavar="FILE", help="also write the subset as LLaVA training JSON")
    p.add_argument("--embeddings", metavar="NPY",
                   help="precomputed embeddings (n x d .npy, rows in pool order, e.g. from vlprune "
                        "embed) for embedding-based selectors")
    p.add_argument("--model", dest="embedder_model", metavar="PATH",
                   help="model of --embedder (clip, llava, minilm): hub id or local folder")
    add_dataset_options(p)
    g = p.add_argument_group("selector parameters (each applies to the selectors named)")
    for name, text in selector_parameter_help().items():
        g.add_argument(f"--{name.replace('_', '-')}", dest=f"sp_{name}", metavar="VALUE", help=text)
    g.add_argument("--param", action="append", metavar="NAME=VALUE",
                   help="any selector parameter, for plugins (repeatable)")
    p.set_defaults(func=run_select)


def selector_from_args(args: argparse.Namespace):
    """The selector the flags describe, built and validated before any data is read."""
    from vlprune.select.base import selectors

    cls = selectors.get(args.selector)
    specs = cls.param_specs()
    params: dict[str, Any] = {}
    for key, text in vars(args).items():
        if key.startswith("sp_") and text is not None:
            if key[3:] not in specs:
                raise UsageError(f"--{key[3:].replace('_', '-')} does not apply to selector {args.selector!r} "
                                 f"(its parameters: {', '.join(specs) or 'none'})")
            params[key[3:]] = text
    params.update(assignments(args.param, "--param"))
    if str(params.get("warm_start", "")).endswith(".json"):
        from vlprune.data.subset import SubsetManifest

        params["warm_start"] = SubsetManifest.load(params["warm_start"]).ids
    if args.embeddings or args.embedder_model:
        flag = "--embeddings" if args.embeddings else "--model"
        if "embedder" not in specs:
            raise UsageError(f"{flag} applies to embedding-based selectors, not {args.selector!r}")
        if args.embeddings and "embedder" in params:
            raise UsageError("give either --embedder or --embeddings, not both")
        if args.embeddings and args.embedder_model:
            raise UsageError("--model applies to --embedder, not to precomputed --embeddings")
        if args.embeddings:
            from vlprune.embed.precomputed import PrecomputedEmbedder

            params["embedder"] = PrecomputedEmbedder.from_file(args.embeddings)
        else:
            from vlprune.embed.spec import get_embedder

            params["embedder"] = get_embedder(params.get("embedder", specs["embedder"].default),
                                              model=args.embedder_model)
    return selectors.create(args.selector, **params)


def run_select(args: argparse.Namespace) -> int:
    from vlprune.data.subset import SubsetManifest
    from vlprune.data.summary import format_summary, subset_summary
    from vlprune.io import check_outputs, check_writable
    from vlprune.params import check_seed
    from vlprune.select.base import check_k

    check_k(args.k)
    check_seed(args.seed, what="--seed")
    selector = selector_from_args(args)
    check_outputs({"--out": args.out, "--export-llava": args.export_llava},
                  [args.data, args.embeddings, args.image_folder])
    for target in (args.out, args.export_llava):
        if target:
            check_writable(target)
    pool = load_pool_from_args(args)
    selection = selector.select(pool, args.k, seed=args.seed)
    SubsetManifest.from_selection(selection, pool).save(args.out, export_llava=args.export_llava, pool=pool)
    print(format_summary(subset_summary(pool, selection.positions), title=f"{selection.selector} selection"))
    print(f"wrote {args.out}" + (f" and {args.export_llava}" if args.export_llava else ""))
    return 0


# -- inspect ------------------------------------------------------------------------------------
def add_inspect_parser(sub, common) -> None:
    p = sub.add_parser("inspect", parents=[common], help="show a subset's make-up beside its pool's",
                       description="Compare a subset with the pool it was selected from.")
    p.add_argument("manifest", help="subset manifest (subset.json)")
    p.add_argument("--data", metavar="PATH", help="read the dataset from here instead of the manifest's path")
    p.add_argument("--allow-mismatch", action="store_true",
                   help="accept a dataset whose fingerprint differs from the manifest's")
    p.add_argument("--top", type=int, default=15, help="rows shown per table (default 15)")
    p.add_argument("--card", nargs="?", const="-", metavar="FILE",
                   help="write a markdown subset card for publishing the subset (make-up against the pool, "
                        "selector, parameters, seed, hashes, versions, the command that reproduces it) to "
                        "FILE, or to stdout without FILE")
    p.set_defaults(func=run_inspect)


def run_inspect(args: argparse.Namespace) -> int:
    from vlprune.data.subset import SubsetManifest
    from vlprune.data.summary import format_comparison

    if args.card and args.card != "-":
        from vlprune.io import check_outputs, check_writable

        check_outputs({"--card": args.card}, [args.manifest, args.data])
        check_writable(args.card)
    manifest = SubsetManifest.load(args.manifest)
    pool = manifest.load_pool(**({"source": args.data} if args.data else {}))
    positions = manifest.positions_in(pool, allow_mismatch=args.allow_mismatch)
    if args.card:
        from vlprune.io import atomic_open
        from vlprune.select.card import subset_card

        card = subset_card(manifest, pool, path=args.manifest, positions=positions, top=args.top)
        if args.card == "-":
            print(card)
            return 0
        with atomic_open(args.card, "w", encoding="utf-8") as f:
            f.write(card)
        print(f"wrote {args.card}")
        return 0
    print(f"{args.manifest}: {manifest.selector} selection of {manifest.k} from {len(pool)} "
          f"({pool.reference.loader}, split {pool.reference.split}), seed {manifest.seed}")
    print(format_comparison(pool, positions, top=args.top))
    return 0
