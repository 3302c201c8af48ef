"""Errors vlprune raises on purpose.

Every error a user can cause derives from :class:`VlpruneError`; the command line turns
these into a one-line message and exit code 2 instead of a traceback.
"""

from __future__ import annotations


class VlpruneError(Exception):
    """Base class for errors caused by input: bad data, bad parameters, missing files."""


class DataError(VlpruneError, ValueError):
    """A data file is malformed. The message names the file, the record id and the field.

    Example:
        >>> err = DataError("answer index 5 is outside the 4 choices",
        ...                 file="problems.json", record="17", field="answer")
        >>> str(err)
        "problems.json: record '17', field 'answer': answer index 5 is outside the 4 choices"
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        record: str | None = None,
        field: str | None = None,
    ) -> None:
        self.file, self.record, self.field, self.reason = file, record, field, message
        where = []
        if record is not None:
            where.append(f"record {record!r}")
        if field is not None:
            where.append(f"field {field!r}")
        prefix = f"{file}: " if file else ""
        location = ", ".join(where)
        super().__init__(f"{prefix}{location}: {message}" if location else f"{prefix}{message}")


class ConfigError(VlpruneError, ValueError):
    """A parameter has an invalid value (k out of range, unknown selector or field, ...)."""


class MissingFieldError(ConfigError):
    """A selector or embedder needs a field this pool does not have."""
