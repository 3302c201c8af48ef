"""The ``vlprune`` command line: argument parsing and printing only, no logic of its own.

One module per subcommand (``select`` with ``inspect``, ``train`` with ``eval``, ``embed``,
``compare``), each a parser builder and a ``run_*`` function; ``common`` holds the options
they share.

Every subcommand parses its flags, calls the library and prints what came back. Errors a
user can cause (bad data, bad parameters) print one line and exit with status 2; nothing is
written before every input has been checked.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence

from vlprune._version import __version__
from vlprune.cli.common import UsageError, common_options
from vlprune.cli.compare import add_compare_parser
from vlprune.cli.embed import add_embed_parser
from vlprune.cli.select import add_inspect_parser, add_select_parser
from vlprune.cli.train import add_eval_parser, add_train_parser, train_overrides

__all__ = ["UsageError", "build_parser", "main", "train_overrides"]

SUBCOMMANDS: list[Callable] = [add_select_parser, add_inspect_parser, add_embed_parser, add_train_parser,
                               add_eval_parser, add_compare_parser]


def build_parser() -> argparse.ArgumentParser:
    common = common_options()
    parser = argparse.ArgumentParser(
        prog="vlprune", parents=[common],
        description="Prune visual-instruction-tuning data and score the subsets.",
        epilog="Cached data lives in $VLPRUNE_CACHE_DIR (default: the user cache folder, "
               "e.g. ~/.cache/vlprune); --cache-dir DIR overrides it for one command.")
    parser.add_argument("--version", action="version", version=f"vlprune {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in SUBCOMMANDS:
        add(sub, common)
    return parser


def _attach_dash_values(argv: list[str]) -> list[str]:
    """``--shard -1/4`` as ``--shard=-1/4``: argparse would read the value as an option and
    answer with its own message instead of the shard check's."""
    out: list[str] = []
    for i, arg in enumerate(argv):
        if i and argv[i - 1] == "--shard" and arg.startswith("-") and out and out[-1] == "--shard":
            out[-1] = f"--shard={arg}"
        else:
            out.append(arg)
    return out


def _shown_nowhere_else(record: logging.LogRecord) -> bool:
    """False for a record a library's own handler has printed already (huggingface_hub has
    one and still passes its records up to ours): each message is shown once."""
    logger: logging.Logger | None = logging.getLogger(record.name)
    while logger is not None and logger is not logging.root:
        if logger.handlers:
            return False
        if not logger.propagate:
            break
        logger = logger.parent
    return True


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(_attach_dash_values(list(sys.argv[1:] if argv is None else argv)))
    quiet, debug = getattr(args, "quiet", False), getattr(args, "debug", False)
    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO,
                        format="vlprune: %(message)s", stream=sys.stderr, force=True)
    for handler in logging.getLogger().handlers:
        handler.addFilter(_shown_nowhere_else)
    if getattr(args, "cache_dir", None):
        os.environ["VLPRUNE_CACHE_DIR"] = args.cache_dir  # read by vlprune.io.cache_dir, in every layer
    from vlprune.errors import VlpruneError

    try:
        return int(args.func(args) or 0)
    except (VlpruneError, UsageError, OSError) as exc:
        if debug:
            raise
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"vlprune {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("vlprune: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
