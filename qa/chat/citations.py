"""Citing a record as the archive does, finding it in the archive, and exporting records for reference managers.

- `archive_citation`: `"Title," Date, Collection/Archive, Record ID NNN, URL`, the Wilson Center Digital Archive's
  own order (parts the record does not have are left out);
- `record_link`: the record's own http(s) address, else a link searching the archive for its title;
- `to_ris` and `to_csl_json`: the records as RIS and CSL-JSON, the two formats Zotero, EndNote and others import.

Plain text only: a caller showing any of it on a page escapes it (qa.chat.text).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote, quote_plus, urlsplit

from qa.index.people import title_correspondents
from qa.records import Record

# The archive the shipped corpus comes from: searched for a record without a link, unless the records' links point
# elsewhere or the `archive_url` setting says otherwise. Its (new) site takes a search's words in this parameter.
DEFAULT_ARCHIVE = "https://digitalarchive.wilsoncenter.org"
SEARCH_PATH = "/search?search_api_fulltext="
_DOCUMENT_NUMBER = re.compile(r"/document/(\d+)/?$")
_URL_SAFE = "/:?#@!$&'*+,;=%-._~"  # parentheses, brackets, angle brackets, quotes and spaces are percent-encoded


def safe_url(url: str | None) -> str | None:
    """An http(s) address fit for a link, percent-encoded where Markdown or HTML would read it; else None
    (other schemes, such as javascript: or data:, are refused)."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return quote(url, safe=_URL_SAFE)


def archive_base(urls: Iterable[str | None], setting: str | None = None) -> str:
    """The archive's address: the setting when given, else the site most of the records' links point to, else
    the Wilson Center Digital Archive (the shipped corpus's archive)."""
    if setting:
        return setting.rstrip("/")
    sites = Counter(f"{p.scheme}://{p.netloc}" for url in urls if (p := _parts(url)))
    return sites.most_common(1)[0][0] if sites else DEFAULT_ARCHIVE


def _parts(url: str | None):
    safe = safe_url(url)
    return urlsplit(safe) if safe else None


def search_url(base: str, words: str) -> str | None:
    """The archive's search for these words (the new site's `search_api_fulltext` parameter)."""
    return safe_url(f"{base.rstrip('/')}{SEARCH_PATH}{quote_plus(' '.join(words.split()))}")


@dataclass(frozen=True, slots=True)
class Link:
    """Where a record can be found in the archive: its own page (`exact`) or a search for its title."""

    url: str
    exact: bool


def record_link(record: Record, base: str) -> Link | None:
    """The record's own page when it has an http(s) address, else the archive's search for its title."""
    own = safe_url(record.url)
    if own:
        return Link(own, True)
    found = search_url(base, record.title) if record.title.strip() else None
    return Link(found, False) if found else None


def record_number(record: Record) -> str | None:
    """The archive's own record id: the document page's `Record ID`, else the number of a `/document/NNN` link."""
    if record.archive_id:
        return record.archive_id
    own = safe_url(record.url)
    found = _DOCUMENT_NUMBER.search(urlsplit(own).path) if own else None
    return found.group(1) if found else None


def holder(record: Record) -> str:
    """The collection and the original archive, as `Collection/Archive` (either alone when only one is known)."""
    return "/".join(dict.fromkeys(p for p in (record.collection, record.archive) if p))


def _one_line(value: object) -> str:
    """A value on one line: any run of white space (line breaks too) becomes one space."""
    return " ".join(str(value).split())


def archive_citation(record: Record, *, escape=str, link=str) -> str:
    """`"Title," Date, Collection/Archive, Record ID NNN, URL`, as the archive cites its documents (parts the record
    lacks left out). `escape` is applied to the text and `link` to the address, for Markdown."""
    number = record_number(record)
    texts = [record.display_date, holder(record), f"Record ID {number}" if number else ""]
    parts = [escape(_one_line(p)) for p in texts if p]
    url = safe_url(record.url)
    if url:
        parts.append(link(url))
    return f'"{escape(_one_line(record.title))},"' + "".join(f" {p}," for p in parts).rstrip(",")


def numbered_citations(sources: Iterable) -> str:
    """One archive-style citation a line, each after its source's number `[n]` (answer sources)."""
    return "\n".join(f"[{s.n}] {archive_citation(s.record)}" for s in sources)


# ---------------------------------------------------------------------------------------------- reference managers


def _date_parts(record: Record) -> list[int]:
    """The record's date as [year], [year, month] or [year, month, day]; [] when undated."""
    return [int(p) for p in record.date.split("-")] if record.date else []


def _authors(record: Record) -> tuple[str, ...]:
    """Who wrote the document, as its title says (qa/corpus/correspondents.py)."""
    return title_correspondents(record.title).authors


def _note(record: Record) -> str:
    """What else the record tells: its recipients, who passed it on, the page that listed it."""
    found = title_correspondents(record.title)
    parts = []
    if found.recipients:
        parts.append("To " + ", ".join(found.recipients))
    if found.intermediaries:
        parts.append("via " + ", ".join(found.intermediaries))
    if record.listed_under:
        parts.append(f"Listed under {record.listed_under}")
    return _one_line("; ".join(parts))


def ris_entry(record: Record) -> list[tuple[str, str]]:
    """The RIS tags of one record (an archival manuscript), each value on one line."""
    date = _date_parts(record)
    tags = [("TY", "MANSCPT"), ("TI", record.title)]
    tags += [("AU", name) for name in _authors(record)]
    if date:
        padded = [f"{date[0]:04d}", *(f"{p:02d}" for p in date[1:])] + [""] * (3 - len(date))
        tags += [("PY", f"{date[0]:04d}"), ("DA", "/".join(padded) + "/")]
    tags += [
        ("AB", record.summary),
        ("UR", safe_url(record.url) or ""),
        ("AN", record_number(record) or ""),
        ("DB", holder(record)),
        ("M3", record.record_type or ""),
        ("LA", record.language or ""),
        ("N1", _note(record)),
        ("ID", record.id),
    ]
    tags += [("KW", word) for word in (*record.topics, *record.people, *record.places)]
    return [(tag, _one_line(value)) for tag, value in tags if _one_line(value)]


def to_ris(records: Iterable[Record]) -> str:
    """The records as an RIS file (`TY` first, `ER` last in each entry; CRLF-free, UTF-8)."""
    lines = []
    for record in records:
        lines += [f"{tag}  - {value}" for tag, value in ris_entry(record)]
        lines += ["ER  - ", ""]
    return "\n".join(lines)


def csl_item(record: Record) -> dict:
    """One record as a CSL-JSON item (type `manuscript`), without empty fields."""
    item = {
        "id": record.id,
        "type": "manuscript",
        "title": _one_line(record.title),
        "author": [{"literal": name} for name in _authors(record)],
        "issued": {"date-parts": [_date_parts(record)]} if record.date else None,
        "abstract": _one_line(record.summary),
        "URL": safe_url(record.url),
        "archive": holder(record),
        "archive_location": record_number(record),
        "genre": record.record_type,
        "language": record.language,
        "note": _note(record),
    }
    return {key: value for key, value in item.items() if value}


def to_csl_json(records: Iterable[Record]) -> str:
    """The records as a CSL-JSON list (what Zotero imports as "CSL JSON")."""
    return json.dumps([csl_item(r) for r in records], ensure_ascii=False, indent=2) + "\n"
