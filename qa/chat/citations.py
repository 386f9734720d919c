"""Citing a record as the archive does, finding it in the archive, and exporting records for reference managers.

- `reference`: every field a citation carries (title, date, repository, archival source, translator, record id,
  URL, accessed date), from the record and its collection's settings (`CollectionInfo`, in `Citing`);
- `archive_citation`: the Chicago-style citation in the Wilson Center Digital Archive's own order (parts the record
  does not have are left out);
- `record_link`: the record's own http(s) address, else its document page by record id, else a search for its title;
- `to_ris`, `to_csl_json`, `to_bibtex` (`EXPORTS`): the records for Zotero, EndNote, BibTeX and others.

Plain text only: a caller showing any of it on a page escapes it (qa.chat.text).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
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
    """The record's own page: its http(s) address, else the archive's page of its record id; else the archive's
    search for its title."""
    own = cited_url(record, CollectionInfo(record.collection, base_url=base))
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


@dataclass(frozen=True, slots=True)
class CollectionInfo:
    """A collection's settings (`corpus/<collection>/collection.toml`): its name, the repository that holds its
    documents and the repository's web address."""

    name: str
    repository: str | None = None
    base_url: str | None = None


@dataclass(frozen=True, slots=True)
class Citing:
    """What citing a record needs beyond it: the collections' settings and the day the sources were accessed."""

    collections: Mapping[str, CollectionInfo] = field(default_factory=dict)
    accessed: date | None = None  # None: today

    def info(self, record: Record) -> CollectionInfo | None:
        return self.collections.get(record.collection)

    def day(self) -> date:
        return self.accessed or date.today()


@dataclass(frozen=True, slots=True)
class Reference:
    """Every field a citation or a reference manager's entry of one record carries (plain text, one line each)."""

    id: str
    title: str
    date: str  # as the archive writes it ("July 6, 1949", "undated")
    date_parts: tuple[int, ...]
    repository: str
    source: str  # the archival source: the original archive and its file
    translation: str  # the archive's translation note ("Translated by Sergey Radchenko.")
    translator: str
    number: str  # the archive's record id
    url: str
    accessed: date
    authors: tuple[str, ...]


_TRANSLATION = re.compile(r"(?:^|(?<=[.;]\s))((?:Translated|Translation)\b[^.]*(?:\.|$))", re.I)
_TRANSLATOR = re.compile(r"\bby\s+(.+?)\.?$", re.I)
_FULL_CITATION = re.compile(r'^["“](?P<title>.+?),?["”]\s*,?\s*(?P<rest>.*)$')
_TRAILING_URL = re.compile(r"\s*https?://\S+\s*$")


def reference(record: Record, citing: Citing | None = None) -> Reference:
    """The record's reference: repository from the document page's citation, else the collection's setting;
    archival source and translator from the page's citation or source note; the link, else the archive's document
    page for a known record id."""
    citing = citing or Citing()
    info = citing.info(record)
    named, source, translation = _citation_parts(record)
    found = _TRANSLATOR.search(translation.rstrip(".")) if translation else None
    return Reference(
        id=record.id,
        title=_one_line(record.title),
        date=record.display_date,
        date_parts=tuple(_date_parts(record)),
        repository=named or (info.repository if info and info.repository else "") or record.collection,
        source=source or _one_line(record.archive or ""),
        translation=translation,
        translator=_one_line(found.group(1)) if found else "",
        number=record_number(record) or "",
        url=cited_url(record, info) or "",
        accessed=citing.day(),
        authors=_authors(record),
    )


def cited_url(record: Record, info: CollectionInfo | None = None) -> str | None:
    """The record's own http(s) address, else its document page in the collection's repository (by record id)."""
    own = safe_url(record.url)
    if own or not (info and info.base_url and record.archive_id):
        return own
    return safe_url(f"{info.base_url.rstrip('/')}/document/{quote(record.archive_id, safe='')}")


def _citation_parts(record: Record) -> tuple[str, str, str]:
    """From the page's citation (a full citation, or the new site's source note): the repository it names (full
    citations only), the archival source and the translation note; empty where absent."""
    text = _TRAILING_URL.sub("", _one_line(record.citation or ""))
    if not text:
        return "", "", ""
    translation = ""
    if found := _TRANSLATION.search(text):
        translation = found.group(1).strip()
        text = (text[: found.start(1)] + text[found.end(1) :]).strip()
    repository = ""
    full = _FULL_CITATION.match(text)
    if full:
        rest = full.group("rest")
        rest = rest[len(record.display_date) :].lstrip(" ,") if rest.startswith(record.display_date) else rest
        repository, _, text = rest.partition(", ")
    return repository.strip(" ,."), text.strip(" ,."), translation


def _one_line(value: object) -> str:
    """A value on one line: any run of white space (line breaks too) becomes one space."""
    return " ".join(str(value).split())


def accessed_words(day: date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def archive_citation(record: Record, citing: Citing | None = None, *, escape=str, link=str) -> str:
    """The archive's Chicago-style citation: `"Title," Date, Repository, Archival source, Record ID NNN. Translated by
    X. URL (accessed Month D, YYYY).` (parts the record lacks left out). `escape` is applied to the text and `link`
    to the address, for Markdown."""
    ref = reference(record, citing)
    parts = [escape(p) for p in (ref.date, ref.repository, ref.source, f"Record ID {ref.number}" if ref.number else "")
             if p]
    text = f'"{escape(ref.title)},"' + "".join(f" {p}," for p in parts).rstrip(",") + "."
    if ref.translation:
        text += f" {escape(ref.translation)}"
    if ref.url:
        text += f" {link(ref.url)} ({escape(f'accessed {accessed_words(ref.accessed)}')})."
    return text


def numbered_citations(sources: Iterable, citing: Citing | None = None) -> str:
    """One archive-style citation a line, each after its source's number `[n]` (answer sources)."""
    return "\n".join(f"[{s.n}] {archive_citation(s.record, citing)}" for s in sources)


# ---------------------------------------------------------------------------------------------- reference managers


def _date_parts(record: Record) -> list[int]:
    """The record's date as [year], [year, month] or [year, month, day]; [] when undated."""
    return [int(p) for p in record.date.split("-")] if record.date else []


def _authors(record: Record) -> tuple[str, ...]:
    """Who wrote the document, as its title says (qa/corpus/correspondents.py)."""
    return title_correspondents(record.title).authors


def _note(record: Record, ref: Reference) -> str:
    """What else the record tells: the archival source, its recipients, who passed it on, the page that listed it."""
    found = title_correspondents(record.title)
    parts = [f"Archival source: {ref.source}" if ref.source else "", ref.translation]
    if found.recipients:
        parts.append("To " + ", ".join(found.recipients))
    if found.intermediaries:
        parts.append("via " + ", ".join(found.intermediaries))
    if record.listed_under:
        parts.append(f"Listed under {record.listed_under}")
    return _one_line("; ".join(p.rstrip(".") for p in parts if p))


def ris_entry(record: Record, citing: Citing | None = None) -> list[tuple[str, str]]:
    """The RIS tags of one record (an archival manuscript), each value on one line: `UR` its link, `DB` the
    repository, `AN` the archive's record id, `ID` the id answers cite it by, `Y2` the day it was accessed."""
    ref = reference(record, citing)
    tags = [("TY", "MANSCPT"), ("TI", ref.title)]
    tags += [("AU", name) for name in ref.authors]
    if ref.translator:
        tags.append(("A4", ref.translator))
    if ref.date_parts:
        date = ref.date_parts
        padded = [f"{date[0]:04d}", *(f"{p:02d}" for p in date[1:])] + [""] * (3 - len(date))
        tags += [("PY", f"{date[0]:04d}"), ("DA", "/".join(padded) + "/")]
    tags += [
        ("AB", record.summary),
        ("UR", ref.url),
        ("Y2", ref.accessed.strftime("%Y/%m/%d/") if ref.url else ""),
        ("AN", ref.number),
        ("DB", ref.repository),
        ("M3", record.record_type or ""),
        ("LA", record.language or ""),
        ("N1", _note(record, ref)),
        ("ID", record.id),
    ]
    tags += [("KW", word) for word in (*record.topics, *record.people, *record.places)]
    return [(tag, _one_line(value)) for tag, value in tags if _one_line(value)]


def to_ris(records: Iterable[Record], citing: Citing | None = None) -> str:
    """The records as an RIS file (`TY` first, `ER` last in each entry; CRLF-free, UTF-8)."""
    lines = []
    for record in records:
        lines += [f"{tag}  - {value}" for tag, value in ris_entry(record, citing)]
        lines += ["ER  - ", ""]
    return "\n".join(lines)


def csl_item(record: Record, citing: Citing | None = None) -> dict:
    """One record as a CSL-JSON item (type `manuscript`: `archive` the repository, `archive_location` the archival
    source, `number` the archive's record id), without empty fields."""
    ref = reference(record, citing)
    item = {
        "id": record.id,
        "type": "manuscript",
        "title": ref.title,
        "author": [{"literal": name} for name in ref.authors],
        "translator": [{"literal": ref.translator}] if ref.translator else None,
        "issued": {"date-parts": [list(ref.date_parts)]} if ref.date_parts else None,
        "abstract": _one_line(record.summary),
        "URL": ref.url,
        "accessed": {"date-parts": [[ref.accessed.year, ref.accessed.month, ref.accessed.day]]} if ref.url else None,
        "archive": ref.repository,
        "archive_location": ref.source,
        "number": ref.number,
        "genre": record.record_type,
        "language": record.language,
        "note": _note(record, ref),
    }
    return {key: value for key, value in item.items() if value}


def to_csl_json(records: Iterable[Record], citing: Citing | None = None) -> str:
    """The records as a CSL-JSON list (what Zotero imports as "CSL JSON")."""
    return json.dumps([csl_item(r, citing) for r in records], ensure_ascii=False, indent=2) + "\n"


_LATEX = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
          "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
_LATEX_SPECIAL = re.compile("|".join(re.escape(c) for c in _LATEX))
_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9_:-]+")


def _latex(text: str) -> str:
    """Text with LaTeX's special characters escaped, for a BibTeX field in braces."""
    return _LATEX_SPECIAL.sub(lambda m: _LATEX[m.group()], _one_line(text))


def bibtex_key(record: Record, ref: Reference) -> str:
    """A citation key: the archive's record id where known, else the record's id, made of safe characters."""
    return "archive-" + (_KEY_UNSAFE.sub("-", ref.number or record.id).strip("-")[:60] or "record")


def bibtex_entry(record: Record, citing: Citing | None = None) -> str:
    """One record as a BibTeX `@misc` entry (biblatex fields `date`, `urldate`, `translator`; `howpublished` the
    repository, `note` the archival source and record id)."""
    ref = reference(record, citing)
    note = "; ".join(p for p in (ref.source, f"Record ID {ref.number}" if ref.number else "", ref.translation) if p)
    fields = {
        "title": _latex(ref.title),
        "author": " and ".join("{" + _latex(a) + "}" for a in ref.authors),
        "translator": "{" + _latex(ref.translator) + "}" if ref.translator else "",
        "date": "-".join(f"{p:02d}" if i else f"{p:04d}" for i, p in enumerate(ref.date_parts)),
        "year": f"{ref.date_parts[0]:04d}" if ref.date_parts else "",
        "howpublished": _latex(ref.repository),
        "note": _latex(note),
        "url": ref.url,
        "urldate": ref.accessed.isoformat() if ref.url else "",
        "abstract": _latex(record.summary),
    }
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields.items() if value)
    return f"@misc{{{bibtex_key(record, ref)},\n{body}\n}}\n"


def to_bibtex(records: Iterable[Record], citing: Citing | None = None) -> str:
    """The records as a BibTeX file, keys made unique by a suffix where two records would share one."""
    entries, seen = [], Counter()
    for record in records:
        entry = bibtex_entry(record, citing)
        key = entry[len("@misc{") : entry.index(",")]
        seen[key] += 1
        if seen[key] > 1:
            entry = entry.replace(key, f"{key}-{seen[key]}", 1)
        entries.append(entry)
    return "\n".join(entries)


EXPORTS = {  # format: (what writes it, file extension, MIME type, label)
    "ris": (to_ris, "ris", "application/x-research-info-systems", "RIS"),
    "csl": (to_csl_json, "json", "application/json", "CSL-JSON"),
    "bibtex": (to_bibtex, "bib", "application/x-bibtex", "BibTeX"),
}
