"""What every subcommand shares: the common options, the dataset options and their one
translation into a :class:`~vlprune.data.pool.DatasetRef`, ``NAME=VALUE`` lists."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

CACHE_HELP = ("cache folder for the synthetic data, embeddings, tokenizers and base models "
              "(default: $VLPRUNE_CACHE_DIR, else the user cache folder, e.g. ~/.cache/vlprune)")


class UsageError(Exception):
    """A command-line mistake found after parsing (exit code 2, one line)."""


# -- options every command shares ---------------------------------------------------------------
def common_options() -> argparse.ArgumentParser:
    """``-q``, ``--debug`` and ``--cache-dir``, accepted before or after the subcommand."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                   help="only warnings and errors on stderr")
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks")
    p.add_argument("--cache-dir", metavar="DIR", default=argparse.SUPPRESS, help=CACHE_HELP)
    return p


def add_dataset_options(p: argparse.ArgumentParser, *, split_default: str | None = "train") -> None:
    g = p.add_argument_group("dataset")
    g.add_argument("--dataset", default="synthetic", metavar="NAME",
                   help="loader: synthetic (default, built in), scienceqa, hf, llava-json, "
                        "or a registered plugin")
    g.add_argument("--data", metavar="PATH", help="dataset folder, file or hub id (not for synthetic)")
    g.add_argument("--split", default=split_default,
                   help=f"split to load (default: {split_default}); dev and tune are the tuning splits "
                        "carved from train (docs/data.md)")
    g.add_argument("--size", default=None,
                   help="synthetic only: full (default), small, tiny or 'train=N,val=N,test=N'")
    g.add_argument("--data-seed", type=int, default=None, help="synthetic only: generator seed (default 0)")
    g.add_argument("--image-folder", metavar="DIR", help="where image files live (scienceqa, llava-json)")
    g.add_argument("--require-images", action="store_true",
                   help="make a missing image file an error instead of using its caption")
    g.add_argument("--on-duplicate-id", choices=("error", "suffix"), default=None,
                   help="llava-json only: what to do with repeated ids")


def dataset_ref(args: argparse.Namespace, *, split: str | None = None):
    """The one translation of the dataset flags into a :class:`DatasetRef` (every command that
    loads data uses it, so no flag is silently dropped by one of them)."""
    from vlprune.data.pool import DatasetRef

    options: dict[str, Any] = {}
    if args.dataset == "synthetic":
        if args.size:
            options["size"] = args.size
        if args.data_seed is not None:
            options["seed"] = args.data_seed
    else:
        for flag in ("size", "data_seed"):
            if getattr(args, flag) is not None:
                raise UsageError(f"--{flag.replace('_', '-')} applies to --dataset synthetic only")
    if args.image_folder:
        options["image_folder"] = args.image_folder
    if args.require_images:
        options["require_images"] = True
    if args.on_duplicate_id:
        options["on_duplicate_id"] = args.on_duplicate_id
    return DatasetRef(args.dataset, args.data, split if split is not None else args.split, options)


def load_pool_from_args(args: argparse.Namespace, *, split: str | None = None):
    from vlprune.data.loaders import load_pool

    ref = dataset_ref(args, split=split)
    progress = {"progress": sys.stderr.isatty()} if ref.loader == "synthetic" else {}
    return load_pool(ref.loader, ref.source, split=ref.split, **ref.options, **progress)


def assignments(items: Sequence[str] | None, flag: str, form: str = "NAME=VALUE") -> dict[str, str]:
    """``NAME=VALUE`` items of a repeatable flag as {name: value text}."""
    out = {}
    for item in items or []:
        name, sep, text = item.partition("=")
        if not sep:
            raise UsageError(f"{flag} takes {form}, not {item!r}")
        out[name.strip().replace("-", "_") if form == "NAME=VALUE" else name.strip()] = text.strip()
    return out



def comma_list(text: str, convert: Callable = str) -> list:
    try:
        return [convert(t.strip()) for t in text.split(",") if t.strip()]
    except ValueError:
        raise UsageError(f"expected a comma-separated list, got {text!r}") from None
