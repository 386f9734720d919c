"""What a collection holds, for the chat page: its size, dates and names at a glance, and questions it answers.

Plain values and sentences; the page (app.py) only lays them out, escaping every text that comes from the corpus.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from pathlib import Path, PurePath

import numpy as np

from qa.answer.dates import DateRange
from qa.chat.citations import DEFAULT_ARCHIVE, CollectionInfo, archive_base, record_number, safe_url
from qa.chat.text import document_question
from qa.corpus.scan import SETTINGS_FILE
from qa.errors import ConfigError
from qa.index.people import title_correspondents
from qa.records import date_bounds
from qa.types import Filters

# Questions the shipped corpus answers well; a collection is offered only those it answers (not abstains on).
SUMMARY_QUESTION = "Summarise the collection"  # offered first, whatever the collection
EXAMPLES = (
    "What did Stalin tell Mao about the economic situation in China?",
    "What did Mikoyan and Mao Zedong discuss in 1949?",
    "How did the Romanian party react to the tension between China and the Soviet Union?",
)
EXAMPLE_COUNT = 3
# Collection names take one pass over the records: read only up to this many (a larger collection is not named).
NAMES_UP_TO = 50_000
PAGES_NAMED = 3  # a description names the pages read when there are this many or fewer


@dataclass(frozen=True, slots=True)
class Overview:
    """A collection and its index at a glance, read once per build."""

    count: int
    undated: int
    first_year: int | None
    last_year: int | None
    collections: tuple[str, ...] = ()
    per_year: list[dict] = field(default_factory=list)  # {"year", "documents"}, empty years as 0
    model: str = ""
    built_at: str = ""  # ISO time of the build
    pages: tuple[str, ...] = ()  # the files (saved pages, exports) the records were read from, by name
    archive: str = DEFAULT_ARCHIVE  # the archive's address (qa.chat.citations.archive_base)
    people: tuple[tuple[str, int], ...] = ()  # the titles' people with their number of documents, most first

    @property
    def year_range(self) -> tuple[int, int] | None:
        """The first and last years when the dated documents span more than one (the range a reader can narrow)."""
        if self.first_year is None or self.last_year is None or self.first_year >= self.last_year:
            return None
        return self.first_year, self.last_year

    def description(self) -> str:
        """One sentence (plain text): which collections, how many documents from which pages, from which years."""
        names = ", ".join(self.collections) or "the collection"
        pages = ""
        if self.pages:
            shown = f" ({', '.join(self.pages)})" if len(self.pages) <= PAGES_NAMED else ""
            pages = f", read from {_count(len(self.pages), 'page')}{shown}"
        if self.first_year is None:
            return f"{self.count:,} documents from {names}{pages}, all undated."
        undated = f" ({self.undated:,} undated)" if self.undated else ""
        return f"{self.count:,} documents from {names}{pages}, dated {self.first_year} to {self.last_year}{undated}."

    def build_line(self) -> str:
        """The index in one line (plain text): records, model, when it was built."""
        return f"{self.count:,} records · model {self.model} · built {built_label(self.built_at)}"


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def collection_settings(corpus: Path) -> dict[str, CollectionInfo]:
    """Each collection's settings, from `<corpus>/<collection>/collection.toml` (name, repository, base_url; all
    optional text, base_url an http(s) address). ConfigError naming the file and the field of a bad one."""
    settings = {}
    for path in sorted(Path(corpus).glob(f"*/{SETTINGS_FILE}")):
        settings[path.parent.name] = _read_settings(path)
    return settings


def _read_settings(path: Path) -> CollectionInfo:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read as TOML ({exc})") from None
    known = ("name", "repository", "base_url")
    for key, value in data.items():
        if key not in known:
            raise ConfigError(f"{path}: unknown field {key!r} (the fields are {', '.join(known)})")
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{path}: field {key!r} must be non-empty text")
    base = data.get("base_url")
    if base and not safe_url(base):
        raise ConfigError(f"{path}: field 'base_url' must be an http(s) address, not {base!r}")
    return CollectionInfo(" ".join(data.get("name", path.parent.name).split()), data.get("repository"), base)


def overview(index, archive_url: str | None = None) -> Overview:
    """The overview of a loaded index (`qa.index.ArchiveIndex`): counts, year span, names, pages, model, build
    time, and the archive's address (`archive_url` when set, else read from the records' links)."""
    dates = np.asarray(index.dates).reshape(-1, 2)
    dated = dates[dates[:, 0] > 0]
    first = int(dated[:, 0].min()) // 10000 if len(dated) else None
    last = int(dated[:, 1].max()) // 10000 if len(dated) else None
    records = list(index.records) if index.count <= NAMES_UP_TO else []
    return Overview(
        count=index.count,
        undated=len(dates) - len(dated),
        first_year=first,
        last_year=last,
        collections=collection_names(records),
        per_year=documents_per_year(dates),
        model=index.manifest.model,
        built_at=index.manifest.built_at,
        pages=page_names(records),
        archive=archive_base((r.url for r in records), archive_url),
        people=tuple(index.people.names()),
    )


def collection_names(records: Iterable) -> tuple[str, ...]:
    """The distinct collection names of the records, sorted."""
    return tuple(sorted({r.collection for r in records if r.collection}))


def page_names(records: Iterable) -> tuple[str, ...]:
    """The names of the files the records were read from (`source` is "path:line"), sorted."""
    return tuple(sorted({PurePath(r.source.rpartition(":")[0] or r.source).name for r in records if r.source}))


def built_label(built_at: str) -> str:
    """A build time as "YYYY-MM-DD HH:MM" and its zone; a time that cannot be read is shown as it is."""
    try:
        return datetime.fromisoformat(built_at).strftime("%Y-%m-%d %H:%M %Z").strip()
    except ValueError:
        return built_at


def status_line(problem: str | None) -> str:
    """Whether the index can be used as it is."""
    return "Index out of date" if problem else "Index up to date"


def year_filters(view: Overview, years: tuple[int, int], include_undated: bool) -> Filters:
    """The filters for years chosen within the collection's range: the full range sets no limit on that side, except
    that leaving undated documents out at any range limits it to the dated ones (from the first year on)."""
    first, last = view.year_range or years
    lo, hi = years
    narrowed = (lo, hi) != (first, last)
    if not narrowed and include_undated:
        return Filters()
    return Filters(
        str(lo) if lo > first or not (include_undated or hi < last) else None,
        str(hi) if hi < last else None,
        include_undated,
    )


def example_questions(assistant, candidates: Iterable[str] = EXAMPLES, n: int = EXAMPLE_COUNT) -> list[str]:
    """"Summarise the collection", then up to `n` questions the collection answers: the candidates it does not
    abstain on, then its first titles."""
    answered = [q for q in candidates if not assistant.ask(q).abstained][:n]
    if len(answered) < n:
        titled = (document_question(r) for r in assistant.index.records if r.summary and r.title)
        answered += islice(titled, n - len(answered))
    return [SUMMARY_QUESTION, *answered]


def documents_per_year(dates) -> list[dict]:
    """How many documents each year holds, for the collection's chart: a record counts in the year its date starts.

    `dates` is the index's (n, 2) array of yyyymmdd bounds, 0 for undated records (left out). Years without
    documents between the first and the last are listed with 0, so the bars sit on a true time axis.
    """
    starts = np.asarray(dates).reshape(-1, 2)[:, 0]
    years = starts[starts > 0] // 10000
    if not len(years):
        return []
    first = int(years.min())
    counts = np.bincount(years - first)
    return [{"year": first + i, "documents": int(n)} for i, n in enumerate(counts)]


# ---------------------------------------------------------------------------------------------- the date control


def question_years(applied, view: Overview) -> tuple[int, int] | None:
    """The years of a date range read from a question (`AppliedFilter`), within the collection's, for the page's
    year control to show it; None when there is none or the collection spans one year."""
    span = view.year_range
    if applied is None or span is None:
        return None
    lo = applied.start // 10000 if applied.start else span[0]
    hi = applied.end // 10000 if applied.end else span[1]
    if hi < span[0] or lo > span[1]:
        return None
    return max(lo, span[0]), min(hi, span[1])


def range_words(view: Overview, years: tuple[int, int], include_undated: bool) -> str:
    """The limit a year range sets, in the words an answer uses ("showing documents from 1950 on"), or "any date"."""
    chosen = year_filters(view, years, include_undated)
    if not (chosen.date_from or chosen.date_to):
        return "any date"
    if view.year_range == tuple(years):
        return "dated documents only"
    start, end = date_bounds(chosen.date_from), date_bounds(chosen.date_to)
    span = DateRange(start[0] if start else None, end[1] if end else None).describe()
    return f"showing documents {span}" + (" (and undated ones)" if chosen.include_undated else "")


# ---------------------------------------------------------------------------------------------- browsing

UNDATED_CHOICES = {"with": "Dated and undated", "without": "Dated only", "only": "Undated only"}
ORDER_CHOICES = {"oldest": "Oldest first", "newest": "Newest first", "listed": "As the pages list them"}


@dataclass(frozen=True, slots=True)
class BrowseTable:
    """Every record of a build as the browse page's table shows it (one row per record, in index order)."""

    columns: dict[str, list]  # "Date" (ISO, "" when undated), "Title", "From", "To", "Participants", "Record ID", …
    haystack: list[str]  # each row's title, summary and correspondents in lower case, for the words filter
    starts: np.ndarray  # YYYYMMDD first and last day of each record's date, 0 when undated
    ends: np.ndarray

    def __len__(self) -> int:
        return len(self.haystack)


def browse_table(index) -> BrowseTable:
    """The table of every record of a loaded index (read once per build)."""
    names = ("Date", "Title", "From", "To", "Participants", "Record ID", "Collection", "Summary")
    columns: dict[str, list] = {name: [] for name in names}
    haystack = []
    for record in index.records:
        found = title_correspondents(record.title)
        row = {
            "Date": record.date or "",
            "Title": record.title,
            "From": ", ".join(found.authors),
            "To": ", ".join(found.recipients),
            "Participants": ", ".join(found.participants),
            "Record ID": record_number(record) or record.id,
            "Collection": record.collection,
            "Summary": record.summary,
        }
        for name, value in row.items():
            columns[name].append(value)
        people = " ".join((row["From"], row["To"], row["Participants"]))
        haystack.append(" ".join((record.title, record.summary, people)).lower())
    dates = np.asarray(index.dates).reshape(-1, 2)
    return BrowseTable(columns, haystack, dates[:, 0].copy(), dates[:, 1].copy())


@dataclass(frozen=True, slots=True)
class Browse:
    """The browse page's filters: words, a year range, a correspondent, collections, and undated documents."""

    words: str = ""
    years: tuple[int, int] | None = None  # None: any year
    person: str | None = None  # a name as the titles write it
    collections: tuple[str, ...] = ()  # () : every collection
    undated: str = "with"  # "with", "without" or "only" (UNDATED_CHOICES)
    order: str = "oldest"  # "oldest", "newest" or "listed" (ORDER_CHOICES)


def browse_rows(table: BrowseTable, browse: Browse, people=None) -> np.ndarray:
    """The rows (positions) of the table that pass the filters, in the order chosen (by date, undated ones last; or
    as the pages list them). `people` (the index's `qa.index.people.People`) is needed for a correspondent."""
    keep = np.ones(len(table), dtype=bool)
    dated = table.starts > 0
    if browse.undated == "only":
        keep &= ~dated
    elif browse.undated == "without":
        keep &= dated
    if browse.years and browse.undated != "only":
        lo, hi = browse.years[0] * 10000 + 101, browse.years[1] * 10000 + 1231
        keep &= ~dated | ((table.starts <= hi) & (table.ends >= lo))
    if browse.person and people is not None:
        keep &= people.mask(people.find(browse.person))
    if browse.collections:
        keep &= np.isin(np.asarray(table.columns["Collection"], dtype=object), list(browse.collections))
    terms = browse.words.lower().split()
    if terms:
        keep &= np.fromiter((all(t in text for t in terms) for text in table.haystack), dtype=bool, count=len(table))
    return in_order(table, np.flatnonzero(keep), browse.order)


def in_order(table: BrowseTable, rows: np.ndarray, order: str) -> np.ndarray:
    """The rows by date, oldest or newest first (undated ones last, as listed), or as listed."""
    if order == "listed":
        return rows
    starts = table.starts[rows].astype(np.int64)
    keys = -starts if order == "newest" else starts
    keys = np.where(starts > 0, keys, np.iinfo(np.int64).max)
    return rows[np.argsort(keys, kind="stable")]
