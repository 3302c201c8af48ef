"""Checkpoints, the JSON-lines training log, and atomic folder writes.

A stage's checkpoint is one file, ``<stage>.pt``, replaced atomically at every save: the
trainable parameters, optimizer and scheduler states, the RNG states and the number of
optimizer steps done. The data order of every epoch is a pure function of (seed, epoch), so
the step count is all a resumed run needs to continue with the very batches it would have
seen: a run killed and restarted ends with the same weights as one never interrupted.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from vlprune.errors import VlpruneError
from vlprune.io import atomic_open, atomic_path, make_temp_dir


@contextlib.contextmanager
def atomic_dir(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary folder beside ``target``; on success it replaces ``target`` (an
    existing one is removed only after the new one is complete).

    Example:
        >>> import tempfile, pathlib
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "model"
        >>> with atomic_dir(out) as tmp:
        ...     _ = (tmp / "weights.txt").write_text("w")
        >>> sorted(p.name for p in out.iterdir())
        ['weights.txt']
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = make_temp_dir(target.parent, prefix=f".{target.name}.")  # the umask's mode, not 0700
    try:
        yield tmp
        old = None
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, old)
        try:
            os.replace(tmp, target)
        except OSError:
            if old is not None:
                os.replace(old, target)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(path: str | os.PathLike, *, trainable: dict[str, torch.Tensor], optimizer: Any,
                    scheduler: Any, step: int, key: str) -> None:
    """Write a stage's training state atomically (one file, replaced as a whole)."""
    payload = {"trainable": trainable, "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
               "rng": rng_state(), "step": step, "key": key}
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def load_checkpoint(path: str | os.PathLike, *, key: str) -> dict[str, Any] | None:
    """The saved state, or None when there is none; an error when it belongs to another
    configuration (same run folder, different settings)."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a torn or foreign file
        raise VlpruneError(f"{path}: cannot read the checkpoint ({exc}); delete it to start the stage over") from None
    if state.get("key") != key:
        raise VlpruneError(f"{path}: this checkpoint was written with other settings; "
                           "use another --out folder (or --overwrite) to train with these")
    return state


class TrainLog:
    """The JSON-lines training log (one object per optimizer step and per event).

    On resume, :meth:`rewind` drops the lines a killed run wrote after its last
    checkpoint, so the log of a resumed run reads like the log of an uninterrupted one.
    """

    def __init__(self, path: str | os.PathLike, *, enabled: bool = True) -> None:
        self.path = Path(path)
        self.enabled = enabled

    def write(self, record: dict[str, Any]) -> None:
        if not self.enabled:
            return
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")

    def records(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(json.JSONDecodeError):  # a line cut by a kill
                out.append(json.loads(line))
        return out

    def rewind(self, stage: str, step: int) -> None:
        """Keep everything before ``stage`` and its lines up to optimizer step ``step``."""
        if not self.enabled or not self.path.exists():
            return
        kept = []
        for record in self.records():
            if record.get("stage") == stage and record.get("step", 0) > step:
                continue
            kept.append(record)
        with atomic_open(self.path, "w", encoding="utf-8") as f:
            for record in kept:
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
