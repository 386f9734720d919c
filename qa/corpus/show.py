"""`archive-qa corpus show`: the records as read, every field, as JSON-ready rows or as plain text."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from qa.records import Record

if TYPE_CHECKING:
    from qa.corpus.reader import Corpus

# Plain-text labels, in the order shown; fields left out when empty.
_LABELS = (
    ("id", "id"), ("date", "date"), ("collection", "collection"), ("source", "source"), ("url", "url"),
    ("archive_id", "archive id"), ("record_type", "record type"), ("language", "language"),
    ("archive", "archive"), ("citation", "citation"), ("listed_under", "listed under"), ("people", "people"),
    ("places", "places"), ("topics", "topics"), ("summary", "summary"),
)


def record_rows(corpus: Corpus) -> list[dict]:
    """Every record as read, one dict each with every field (`source` is file:line), in reading order.

    `archive-qa corpus show --json` prints each as one JSON object a line.
    """
    return [record.to_dict() for record in corpus.records]


def format_records(records: Iterable[Record]) -> str:
    """The records as plain text: each its title, then one indented `field: value` line per field that has one."""
    return "\n\n".join(format_record(record) for record in records)


def format_record(record: Record) -> str:
    row = record.to_dict()
    row["date"] = f"{record.display_date} ({record.date_precision})" if record.date else "undated"
    out = [record.title]
    for name, label in _LABELS:
        value = row[name]
        if isinstance(value, list):
            value = "; ".join(value)
        if value:
            out.append(f"  {label}: {value}")
    if record.full_text:
        out.append(f"  full text ({len(record.full_text):,} characters):")
        out.extend(f"    {paragraph}" for paragraph in record.full_text.split("\n"))
    return "\n".join(out)
