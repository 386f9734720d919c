"""Records that look read wrong, for `corpus check` to warn about: a layout the reader does not know shows up at once.

A title that is page furniture, a credit, rights, label or attendance line, or a sentence of another
record's summary; a summary that is a label, or a document page's empty summary. (Two records read
from a page that has a document page's lines are warned about where the page is read, in `layouts`.)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from qa.corpus.credits import is_attendance, is_credit, is_field_label, is_rights
from qa.corpus.furniture import furniture_warnings
from qa.corpus.lines import fold
from qa.records import DETAIL_FIELDS, LIST_FIELDS, Record
from qa.shared import split_sentences

PAGE_SUFFIXES = (".txt", ".html", ".htm")
_KINDS = ((is_credit, "a credit line"), (is_rights, "a rights line"), (is_field_label, "a field label"),
          (is_attendance, "a list of who took part"))
_DOCUMENT_FIELDS = tuple(name for name in DETAIL_FIELDS if name not in LIST_FIELDS and name != "listed_under")


def suspect_warnings(records: list[Record]) -> list[tuple[str, str]]:
    """(source, message) for each record that looks read wrong, one line each."""
    found = furniture_warnings(records)
    flagged = {source for source, _ in found}
    by_file: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        by_file[record.source.rsplit(":", 1)[0]].append(record)
    for path, group in by_file.items():
        sentences = _summary_sentences(group)
        for record in group:
            message = None if record.source in flagged else _suspect(record, sentences, path)
            if message:
                found.append((record.source, message))
    return found


def _suspect(record: Record, sentences: dict[str, str], path: str) -> str | None:
    """Why a record's title or summary looks wrong, if it does."""
    title = fold(record.title)
    kind = next((name for test, name in _KINDS if test(title)), None)
    if kind:
        return f"title {title[:80]!r} is {kind}, not a document's title"
    other = sentences.get(title.casefold())
    if other is not None and other != record.source:
        return f"title {title[:80]!r} is a sentence of the summary of the record at {other}"
    summary = fold(record.summary)
    kind = next((name for test, name in _KINDS[:3] if summary and test(summary)), None)
    if kind:
        return f"summary {summary[:80]!r} is {kind}, not a summary"
    if not summary and _from_document_page(record) and path.lower().endswith(PAGE_SUFFIXES):
        return "document page read without a summary"
    return None


def _summary_sentences(records: Iterable[Record]) -> dict[str, str]:
    """Each sentence of the records' summaries (case folded) and the source of the first record that has it."""
    out: dict[str, str] = {}
    for record in records:
        for sentence in split_sentences(record.summary):
            out.setdefault(fold(sentence).casefold(), record.source)
    return out


def _from_document_page(record: Record) -> bool:
    """Whether a record carries what only a document page gives (full text, citation, record id, …)."""
    return any(getattr(record, name) for name in _DOCUMENT_FIELDS)
