"""``vlprune embed``: embed a split (or one shard of it) into a file; merge shards."""

from __future__ import annotations

import argparse

from vlprune.cli.common import UsageError, add_dataset_options, assignments, load_pool_from_args


def add_embed_parser(sub, common) -> None:
    p = sub.add_parser(
        "embed", parents=[common], help="embed a dataset's records (whole or one shard) or merge shards",
        description="Embed every record of a dataset split into OUT (.npy + .npy.json sidecar), "
                    "through the embedding cache; or merge the shards of a sharded run.",
        epilog="examples:\n"
               "  vlprune embed --embedder minilm --out emb.npy\n"
               "  vlprune embed --embedder clip --model openai/clip-vit-base-patch32 --shard 0/4 --out s0.npy\n"
               "  vlprune embed --merge s0.npy s1.npy s2.npy s3.npy --out emb.npy",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--embedder", metavar="SPEC",
                   help="tfidf, pixels, minilm, clip, llava, default (minilm+pixels), a joint "
                        "spec like minilm+pixels*0.5, or NAME:MODEL")
    p.add_argument("--model", metavar="PATH", help="model of the embedder: hub id or local folder")
    p.add_argument("--out", required=True, help="embeddings file to write (.npy; sidecar OUT.json)")
    p.add_argument("--shard", metavar="I/N", help="embed only shard I of N (I counts from 0)")
    p.add_argument("--merge", nargs="+", metavar="SHARD", help="merge these shard files into --out")
    p.add_argument("--batch-size", type=int, help="records per model batch (model embedders)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"),
                   help="where model embedders run (default auto: CUDA when present)")
    p.add_argument("--param", action="append", metavar="NAME=VALUE",
                   help="any embedder parameter, e.g. join=average or caption=always (repeatable)")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    add_dataset_options(p)
    p.set_defaults(func=run_embed)


def run_embed(args: argparse.Namespace) -> int:
    from vlprune.embed.shards import embed_to_file, merge_shards, parse_shard
    from vlprune.embed.spec import get_embedder
    from vlprune.io import check_outputs

    check_outputs({"--out": args.out}, [args.data, *(args.merge or [])])
    if args.merge:
        given = [flag for flag, value in (("--embedder", args.embedder), ("--model", args.model),
                                          ("--shard", args.shard), ("--param", args.param)) if value]
        if given:
            raise UsageError(f"--merge takes only shard files and --out, not {', '.join(given)}")
        meta = merge_shards(args.merge, args.out)
    else:
        if not args.embedder:
            raise UsageError("give --embedder NAME (or --merge SHARD... to merge shards)")
        shard = parse_shard(args.shard) if args.shard else None
        params = {"model": args.model, "batch_size": args.batch_size, "device": args.device}
        params = {k: v for k, v in params.items() if v is not None} | assignments(args.param, "--param")
        embedder = get_embedder(args.embedder, **params)
        pool = load_pool_from_args(args)
        meta = embed_to_file(embedder, pool, args.out, shard=shard, use_cache=not args.no_cache)
    rows, shard_info = meta["rows"], meta["shard"]
    part = f", shard {shard_info['index']}/{shard_info['count']} (rows {rows[0]}-{rows[1]})" if shard_info else ""
    print(f"wrote {args.out}: {meta['shape'][0]} x {meta['shape'][1]} float32, embedder "
          f"{meta['embedder']['name']}{part}")
    return 0
