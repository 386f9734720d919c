"""What a collection holds, for the chat page: its size, dates and names at a glance, and questions it answers.

Plain values and sentences; the page (app.py) only lays them out, escaping every text that comes from the corpus.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice

import numpy as np

from qa.assistant import Filters

# Questions the shipped corpus answers well; a collection is offered only those it answers (not abstains on).
EXAMPLES = (
    "What did Stalin tell Mao about the economic situation in China?",
    "What did Mikoyan and Mao Zedong discuss in 1949?",
    "How did the Romanian party react to the tension between China and the Soviet Union?",
)
EXAMPLE_COUNT = 3
# Collection names take one pass over the records: read only up to this many (a larger collection is not named).
NAMES_UP_TO = 50_000


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

    @property
    def year_range(self) -> tuple[int, int] | None:
        """The first and last years when the dated documents span more than one (the range a reader can narrow)."""
        if self.first_year is None or self.last_year is None or self.first_year >= self.last_year:
            return None
        return self.first_year, self.last_year

    def description(self) -> str:
        """One sentence (plain text): how many documents, from which collections, from which years."""
        names = ", ".join(self.collections) or "the collection"
        if self.first_year is None:
            return f"{self.count:,} documents from {names}, all undated."
        undated = f" ({self.undated:,} undated)" if self.undated else ""
        return f"{self.count:,} documents from {names}, dated {self.first_year} to {self.last_year}{undated}."

    def build_line(self) -> str:
        """The index in one line (plain text): records, model, when it was built."""
        return f"{self.count:,} records · model {self.model} · built {built_label(self.built_at)}"


def overview(index) -> Overview:
    """The overview of a loaded index (`qa.index.ArchiveIndex`): counts, year span, names, model, build time."""
    dates = np.asarray(index.dates).reshape(-1, 2)
    dated = dates[dates[:, 0] > 0]
    first = int(dated[:, 0].min()) // 10000 if len(dated) else None
    last = int(dated[:, 1].max()) // 10000 if len(dated) else None
    return Overview(
        count=index.count,
        undated=len(dates) - len(dated),
        first_year=first,
        last_year=last,
        collections=collection_names(index.records) if index.count <= NAMES_UP_TO else (),
        per_year=documents_per_year(dates),
        model=index.manifest.model,
        built_at=index.manifest.built_at,
    )


def collection_names(records: Iterable) -> tuple[str, ...]:
    """The distinct collection names of the records, sorted."""
    return tuple(sorted({r.collection for r in records if r.collection}))


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
    """The filters for years chosen within the collection's range: the full range sets no limit on that side."""
    first, last = view.year_range or years
    lo, hi = years
    return Filters(
        str(lo) if lo > first else None,
        str(hi) if hi < last else None,
        include_undated and (lo, hi) != (first, last),
    )


def example_questions(assistant, candidates: Iterable[str] = EXAMPLES, n: int = EXAMPLE_COUNT) -> list[str]:
    """Up to `n` questions the collection answers: the candidates it does not abstain on, then its first titles."""
    answered = [q for q in candidates if not assistant.ask(q).abstained][:n]
    if len(answered) < n:
        titled = (f"What is “{r.title}” about?" for r in assistant.index.records if r.summary and r.title)
        answered += islice(titled, n - len(answered))
    return answered


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
