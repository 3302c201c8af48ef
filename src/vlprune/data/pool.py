"""The Pool: the candidate records of one dataset split, as a table with lazy image access."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from vlprune.data.schema import CATEGORIES, FIELDS, MAYBE_UNKNOWN, SUBJECT_CODES
from vlprune.errors import ConfigError, DataError, MissingFieldError

log = logging.getLogger("vlprune")

if TYPE_CHECKING:
    from PIL import Image

# Columns whose content defines the pool; ``image_path`` (machine-specific) is left out so
# that a manifest written on one machine matches the same data on another.
_FINGERPRINT_COLUMNS = FIELDS
# How an unknown text field enters the fingerprint: a byte no text field holds, so that
# unknown never hashes like "" or like the text "null".
_UNKNOWN_MARK = "\x00"
#: How reports show an unknown value beside the real ones.
UNKNOWN_LABEL = "(unknown)"


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
    which is what selectors return. Image pixels are read only when asked for. A field of
    :data:`vlprune.data.schema.MAYBE_UNKNOWN` is None where the source did not record it
    (``pd.NA`` for the grade): :meth:`known` tells which records know it.

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

    def known(self, name: str) -> np.ndarray:
        """True where the record knows field ``name`` (always, for fields that cannot be
        unknown; see :data:`vlprune.data.schema.MAYBE_UNKNOWN`).

        Example:
            >>> pool = load_pool("synthetic", size="tiny")
            >>> bool(pool.known("hint").all())
            True
        """
        if name not in self.table.columns:
            raise MissingFieldError(f"field {name!r} is not a field of this pool")
        if name not in MAYBE_UNKNOWN:
            return np.ones(len(self), dtype=bool)
        return self.table[name].notna().to_numpy(dtype=bool)

    def has_field(self, name: str) -> bool:
        """Whether the field exists and is known and non-empty for at least one record."""
        if name not in self.table.columns:
            return False
        col = self.table[name]
        if name == "grade":
            return bool(col.notna().any())
        if name == "answer":
            return bool((col >= 0).any())
        if pd.api.types.is_numeric_dtype(col):
            return True
        return bool(col.map(lambda v: isinstance(v, str | list | tuple) and len(v) > 0).any())

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
                f"{who} field {name!r}, which is unknown or empty for every record of this "
                f"{self.reference.loader} pool"
            )
        return self.table[name]

    def groups(self, name: str, *, needed_by: str, sort: bool = False) -> tuple[np.ndarray, list[str]]:
        """Group codes of field ``name`` (as text) and the group labels: how rules read a
        field. Unknown is a value of its own, labelled :data:`UNKNOWN_LABEL`, never merged
        with ``""`` or with a real value; when any record has it, one log line says how many.

        Example:
            >>> pool = load_pool("synthetic", size="tiny")
            >>> codes, labels = pool.groups("subject", needed_by="example", sort=True)
            >>> labels
            ['language science', 'natural science', 'social science']
        """
        column = self.column(name, needed_by=needed_by)
        known = self.known(name)
        # A list, not Series.map: pandas turns a None that map returns into NaN.
        text = [str(v) if k else None for v, k in zip(column.tolist(), known, strict=True)]
        codes, uniques = pd.Series(text, dtype=object).factorize(sort=sort)
        labels = [str(u) for u in uniques]
        n_unknown = int((~known).sum())
        if n_unknown:
            # factorize gives missing values the code -1: make them a group of their own, last.
            codes = np.where(codes < 0, len(labels), codes)
            labels.append(UNKNOWN_LABEL)
            log.info("%s: field %r is unknown for %d of %d records; they form one group of their "
                     "own, %s", needed_by, name, n_unknown, len(self), UNKNOWN_LABEL)
        return codes.astype(np.int64), labels

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
        """One string per record joining the given fields by newlines (choices joined by
        ' | '); a field the record does not know is left out (an empty one is joined as "").

        Example:
            >>> pool = load_pool("synthetic", size="tiny")
            >>> question, choices = pool.texts(["question", "choices"])[0].splitlines()
            >>> question == pool.table.at[0, "question"], choices == " | ".join(pool.table.at[0, "choices"])
            (True, True)
        """
        columns = []
        for name in fields:
            col = self.table[name]
            if name == "choices":
                col = col.map(lambda cs: " | ".join(cs) if cs else "")
            known = self.known(name)
            columns.append([str(v) if k else None for v, k in zip(col.tolist(), known, strict=True)])
        return ["\n".join(v for v in row if v is not None).strip() for row in zip(*columns, strict=True)]

    # -- derived views ------------------------------------------------------------------
    def categories(self) -> pd.DataFrame:
        """Boolean flags per record for ScienceQA's evaluation categories.

        NAT/SOC/LAN from ``subject``; TXT when the hint is non-empty; IMG when an image is
        set; NO when neither; G1-6 and G7-12 from the grade. A record is in a category only
        when it is known to be: one whose subject or grade is unknown is in none of
        NAT/SOC/LAN or G1-6/G7-12, one whose hint is unknown is in neither TXT nor NO (but in
        IMG when it has an image). :meth:`category_known` says for which records each flag
        is decided.

        Example:
            >>> pool = load_pool("synthetic", size="tiny")
            >>> int(pool.categories()["IMG"].sum()) == int(pool.has_image.sum())
            True
        """
        t = self.table
        code = t["subject"].map(lambda v: SUBJECT_CODES.get(v) if isinstance(v, str) else None)
        hint_known = self.known("hint")
        has_txt = hint_known & t["hint"].map(lambda v: isinstance(v, str) and len(v) > 0).to_numpy(dtype=bool)
        has_img = (t["image"] != "").to_numpy(dtype=bool)
        grade = t["grade"].astype("Int64")
        flags = {
            "NAT": (code == "NAT").to_numpy(dtype=bool),
            "SOC": (code == "SOC").to_numpy(dtype=bool),
            "LAN": (code == "LAN").to_numpy(dtype=bool),
            "TXT": has_txt,
            "IMG": has_img,
            "NO": hint_known & ~has_txt & ~has_img,
            "G1-6": grade.between(1, 6).fillna(False).to_numpy(dtype=bool),
            "G7-12": grade.between(7, 12).fillna(False).to_numpy(dtype=bool),
        }
        return pd.DataFrame({k: flags[k] for k in CATEGORIES}, index=t["id"])

    def category_known(self) -> pd.DataFrame:
        """Per record and category, whether membership is decided by known fields: NAT/SOC/LAN
        need the subject, G1-6/G7-12 the grade, TXT the hint; IMG is always decided (the image
        is always known), NO where the hint is known or an image rules it out.

        Example:
            >>> pool = load_pool("synthetic", size="tiny", split="test")
            >>> pool.category_known().sum().tolist() == [50] * 8
            True
        """
        subject, hint, grade = self.known("subject"), self.known("hint"), self.known("grade")
        has_img = (self.table["image"] != "").to_numpy(dtype=bool)
        known = {"NAT": subject, "SOC": subject, "LAN": subject, "TXT": hint,
                 "IMG": np.ones(len(self), dtype=bool), "NO": hint | has_img, "G1-6": grade, "G7-12": grade}
        return pd.DataFrame({k: known[k] for k in CATEGORIES}, index=self.table["id"])

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
                if pd.api.types.is_numeric_dtype(col):  # an unknown grade hashes as "<NA>"
                    values = [str(v) for v in col.tolist()]
                elif name in MAYBE_UNKNOWN:
                    values = [v if isinstance(v, str) else _UNKNOWN_MARK for v in col]
                else:
                    values = [v if isinstance(v, str) else json.dumps(v, sort_keys=True) for v in col]
                h.update("\x1f".join(values).encode("utf-8"))
                h.update(b"\x1e")
            self._fingerprint = "sha256:" + h.hexdigest()[:32]
        return self._fingerprint


def records_to_table(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Build a pool table from validated records (see :func:`validate_problem`).

    Fields of :data:`MAYBE_UNKNOWN` keep None (unknown) apart from ``""``; the grade becomes
    a nullable integer column (``Int64``), where None -- and 0, the old way of writing an
    unknown grade -- is ``pd.NA``. Other text fields treat None as ``""``.
    """
    columns = {name: [r.get(name) for r in records] for name in (*FIELDS, "image_path")}
    table = pd.DataFrame(columns, columns=[*FIELDS, "image_path"])
    for name in FIELDS:
        if name == "answer":
            table[name] = table[name].fillna(-1).astype(np.int64)
        elif name == "grade":
            grades = [None if (g is None or g == 0 or g is pd.NA or (isinstance(g, float) and np.isnan(g)))
                      else int(g) for g in columns[name]]
            table[name] = pd.array(grades, dtype="Int64")
        elif name in MAYBE_UNKNOWN:
            table[name] = pd.Series([v if isinstance(v, str) else None for v in columns[name]],
                                    dtype=object)
        elif name not in ("choices", "conversations"):
            table[name] = table[name].fillna("").astype(str)
    table["image_path"] = table["image_path"].fillna("").astype(str)
    return table


def field_coverage(pool: Pool, fields: Sequence[str] = MAYBE_UNKNOWN) -> dict[str, int]:
    """For each field, how many records of the pool know it (unknown: absent in the source).

    Example:
        >>> field_coverage(load_pool("synthetic", size="tiny"), ["hint", "grade"])
        {'hint': 200, 'grade': 200}
    """
    return {name: int(pool.known(name).sum()) for name in fields}


def check_unique_ids(ids: Sequence[str], *, file: str) -> None:
    seen: set[str] = set()
    for rid in ids:
        if rid in seen:
            raise DataError("duplicate id", file=file, record=rid, field="id")
        seen.add(rid)
