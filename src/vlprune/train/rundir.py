"""The run directory: where a training run keeps its config, log, checkpoints and results.

::

    runs/<name>/
      config.yaml           the resolved configuration (preset + YAML + flags)
      subset.json           the subset manifest trained on (a copy)
      train_log.jsonl       one JSON object per optimizer step and per event
      checkpoints/          <stage>.pt while a stage runs (removed when the run finishes)
      model/                trainable.safetensors (stage-2 weights) + info.json
      metrics.json          accuracy overall and per ScienceQA category, with counts
      predictions.json      {"results": {pid: predicted_index}} (ScienceQA layout)

A second ``vlprune train`` into the same folder resumes it; with other settings it is refused
(``--overwrite`` starts over). Every file is written atomically.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vlprune.errors import ConfigError
from vlprune.io import atomic_open, write_json

#: Config sections that do not change the trained weights: a resumed run may change them.
_RESULT_NEUTRAL = ("eval", "save_every")


@dataclass(frozen=True)
class RunDir:
    """Paths of one run directory.

    Example:
        >>> RunDir(Path("runs/a")).metrics.as_posix()
        'runs/a/metrics.json'
    """

    path: Path

    @property
    def config(self) -> Path:
        return self.path / "config.yaml"

    @property
    def subset(self) -> Path:
        return self.path / "subset.json"

    @property
    def log(self) -> Path:
        return self.path / "train_log.jsonl"

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    @property
    def model(self) -> Path:
        return self.path / "model"

    @property
    def metrics(self) -> Path:
        return self.path / "metrics.json"

    @property
    def predictions(self) -> Path:
        return self.path / "predictions.json"

    def trained(self) -> bool:
        return (self.model / "trainable.safetensors").exists()

    def is_run(self) -> bool:
        return self.config.exists()


def open_run_dir(out: str | os.PathLike, cfg_dict: dict[str, Any], manifest_dict: dict[str, Any], *,
                 overwrite: bool = False, write: bool = True) -> RunDir:
    """Create ``out`` for a new run, or check that an existing run there has the same
    settings and subset (then it is resumed). ``overwrite`` deletes an existing run first."""
    import yaml

    run = RunDir(Path(out))
    if run.path.exists() and any(run.path.iterdir()):
        if not run.is_run():
            raise ConfigError(f"{run.path} exists and is not a vlprune run directory; choose another --out")
        if overwrite:
            if write:
                shutil.rmtree(run.path)
        else:
            old = yaml.safe_load(run.config.read_text(encoding="utf-8")) or {}
            differences = _differences(_training_part(old), _training_part(cfg_dict))
            if differences:
                shown = "; ".join(f"{k}: {a!r} then, {b!r} now" for k, a, b in differences[:3])
                raise ConfigError(f"{run.path} holds a run with other settings ({shown}); "
                                  "use another --out, or --overwrite to start it over")
            old_ids = _read_ids(run.subset)
            if old_ids is not None and old_ids != manifest_dict.get("ids"):
                raise ConfigError(f"{run.path} holds a run on another subset; use another --out, "
                                  "or --overwrite to start it over")
    if write:
        run.path.mkdir(parents=True, exist_ok=True)
        with atomic_open(run.config, "w", encoding="utf-8") as f:
            yaml.safe_dump(cfg_dict, f, sort_keys=False)
        write_json(run.subset, manifest_dict, indent=1)
    return run


def _training_part(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k not in _RESULT_NEUTRAL}


def _differences(a: Any, b: Any, prefix: str = "") -> list[tuple[str, Any, Any]]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b)):
            out.extend(_differences(a.get(key), b.get(key), f"{prefix}{key}."))
        return out
    return [] if a == b else [(prefix.rstrip("."), a, b)]


def _read_ids(path: Path) -> list[str] | None:
    import json

    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("ids")
    except (ValueError, AttributeError):
        return None
