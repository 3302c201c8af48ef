"""The Pool: the candidate records of one dataset split, as a table with lazy image access."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from vlprune.data.schema import CATEGORIES, FIELDS, SUBJECT_CODES
from vlprune.errors import ConfigError, DataError, MissingFieldError

if TYPE_CHECKING:
    from PIL import Image

# Columns whose content defines the pool; ``image_path`` (machine-specific) is left out so
# that a manifest written on one machine matches the same data on another.
_FINGERPRINT_COLUMNS = FIELDS


@dataclass(frozen=True)
class DatasetRef:
    """Everything needed to load the same pool again: what a subset manifest records.

    Example:
        >>> DatasetRef("synthetic", None, "train", {"seed": 0}).to_dict()["loader"]
        'synthetic'
    """

    loader: str
    source: str | None
    split: str | None
    options: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DatasetRef:
        return cls(d["loader"], d.get("source"), d.get("split"), dict(d.get("options") or {}))


class Pool:
    """Candidate records of one dataset split.

    ``pool.table`` is a pandas DataFrame with the columns of
    :data:`vlprune.data.schema.FIELDS` plus ``image_path``; row ``i`` is position ``i``,
    which is what selectors return. Image pixels are read only when asked for.

    Example:
        >>> from vlprune import load_pool
        >>> pool = load_pool("synthetic", split="train", size="tiny")
        >>> len(pool), pool.ids[0]
        (200, 'syn-train-00000')
        >>> int(pool.categories()["IMG"].sum()) == int(pool.has_image.sum())
        True
    """

    def __init__(self, table: pd.DataFrame, reference: DatasetRef, *, missing_images: int = 0) -> None:
        missing = [c for c in (*FIELDS, "image_path") if c not in table.columns]
        if missing:
            raise ConfigError(f"pool table lacks columns {missing}")
        self.table = table.reset_index(drop=True)
        self.reference = reference
        self.missing_images = missing_images
        self._fingerprint: str | None = None

    # -- basic access -------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.table)

    def __repr__(self) -> str:
        ref = self.reference
        src = f" from {ref.source!r}" if ref.source else ""
        return f"Pool({ref.loader}{src}, split={ref.split!r}, n={len(self)})"

    @property
    def ids(self) -> np.ndarray:
        """Record ids as an object array, in position order."""
        return self.table["id"].to_numpy()

    @property
    def has_image(self) -> np.ndarray:
        """True where the record has an image context (whether or not its pixels are present)."""
        return (self.table["image"] != "").to_numpy()

    @property
    def image_available(self) -> np.ndarray:
        """True where the image's pixels were found on this machine."""
        return (self.table["image_path"] != "").to_numpy()

    def has_field(self, name: str) -> bool:
        """Whether the field exists and is set for at least one record."""
        if name not in self.table.columns:
            return False
        col = self.table[name]
        if name == "grade":
            return bool((col > 0).any())
        if name == "answer":
            return bool((col >= 0).any())
        if pd.api.types.is_numeric_dtype(col):
            return True
        return bool(col.map(bool).any())

    def column(self, name: str, *, needed_by: str | None = None) -> pd.Series:
        """One field as a Series; a clear error when the pool does not have it."""
        if name not in self.table.columns:
            who = f"{needed_by} needs" if needed_by else "requested"
            raise MissingFieldError(
                f"{who} field {name!r}, which is not a field of this pool; "
                f"fields: {', '.join(c for c in self.table.columns if c != 'image_path')}"
            )
        if not self.has_field(name):
            who = f"{needed_by} needs" if needed_by else "requested"
            raise MissingFieldError(
                f"{who} field {name!r}, which is empty for every record of this "
                f"{self.reference.loader} pool"
            )
        return self.table[name]

    def image(self, position: int) -> Image.Image | None:
        """The RGB pixels of record ``position``, or None when it has none (or they are missing)."""
        path = self.table.at[position, "image_path"]
        if not path:
            return None
        from PIL import Image

        try:
            with Image.open(path) as img:
                return img.convert("RGB")
        except OSError as exc:
            raise DataError(f"cannot read image {path}: {exc}", record=str(self.table.at[position, "id"]),
                            field="image") from None

    def texts(self, fields: Sequence[str] = ("question", "hint", "choices")) -> list[str]:
        """One string per record joining the given fields (choices joined by ' | ')."""
        parts = []
        for name in fields:
            col = self.table[name]
            if name == "choices":
                col = col.map(lambda cs: " | ".join(cs) if cs else "")
            parts.append(col.astype(str))
        joined = parts[0]
        for p in parts[1:]:
            joined = joined.str.cat(p, sep="\n")
        return joined.str.strip().tolist()

    # -- derived views ------------------------------------------------------------------
    def categories(self) -> pd.DataFrame:
        """Boolean flags per record for ScienceQA's evaluation categories.

        NAT/SOC/LAN from ``subject``; TXT when the hint is non-empty; IMG when an image is
        set; NO when neither; G1-6 and G7-12 from the grade.
        """
        t = self.table
        code = t["subject"].map(SUBJECT_CODES)
        has_txt = t["hint"].str.len() > 0
        has_img = t["image"] != ""
        flags = {
            "NAT": code == "NAT",
            "SOC": code == "SOC",
            "LAN": code == "LAN",
            "TXT": has_txt,
            "IMG": has_img,
            "NO": ~has_txt & ~has_img,
            "G1-6": t["grade"].between(1, 6),
            "G7-12": t["grade"].between(7, 12),
        }
        return pd.DataFrame({k: flags[k].to_numpy(dtype=bool) for k in CATEGORIES}, index=t["id"])

    def subset(self, positions: Sequence[int] | np.ndarray) -> Pool:
        """A new pool holding the given positions, in that order."""
        positions = np.asarray(positions, dtype=np.int64)
        if positions.size and (positions.min() < 0 or positions.max() >= len(self)):
            raise ConfigError(f"positions must lie in [0, {len(self)})")
        sub = Pool(self.table.iloc[positions], self.reference)
        return sub

    def positions_of(self, ids: Sequence[str], *, what: str = "ids") -> np.ndarray:
        """Positions of the given record ids; an error listing a few that are not in the pool."""
        index = pd.Index(self.table["id"])
        positions = index.get_indexer(pd.Index([str(i) for i in ids]))
        unknown = [str(i) for i, p in zip(ids, positions, strict=True) if p < 0]
        if unknown:
            shown = ", ".join(repr(u) for u in unknown[:5])
            more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
            raise ConfigError(
                f"{len(unknown)} of {len(ids)} {what} are not in this {self.reference.loader} pool "
                f"(split {self.reference.split!r}, {len(self)} records): {shown}{more}"
            )
        return positions.astype(np.int64)

    @property
    def fingerprint(self) -> str:
        """A content hash of the records (text, labels, image references; not pixel bytes)."""
        if self._fingerprint is None:
            h = hashlib.sha256()
            for name in _FINGERPRINT_COLUMNS:
                col = self.table[name]
                h.update(name.encode())
                if pd.api.types.is_numeric_dtype(col):
                    values = [str(v) for v in col.tolist()]
                else:
                    values = [v if isinstance(v, str) else json.dumps(v, sort_keys=True) for v in col]
                h.update("\x1f".join(values).encode("utf-8"))
                h.update(b"\x1e")
            self._fingerprint = "sha256:" + h.hexdigest()[:32]
        return self._fingerprint


def records_to_table(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Build a pool table from validated records (see :func:`validate_problem`)."""
    columns = {name: [r.get(name) for r in records] for name in (*FIELDS, "image_path")}
    table = pd.DataFrame(columns, columns=[*FIELDS, "image_path"])
    for name in FIELDS:
        if name in ("answer", "grade"):
            table[name] = table[name].fillna(-1 if name == "answer" else 0).astype(np.int64)
        elif name not in ("choices", "conversations"):
            table[name] = table[name].fillna("").astype(str)
    table["image_path"] = table["image_path"].fillna("").astype(str)
    return table


def check_unique_ids(ids: Sequence[str], *, file: str) -> None:
    seen: set[str] = set()
    for rid in ids:
        if rid in seen:
            raise DataError("duplicate id", file=file, record=rid, field="id")
        seen.add(rid)
