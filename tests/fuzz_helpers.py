"""What the fuzz tests (tests/test_fuzz_*.py) share: the Hypothesis profiles, a hang detector, a work counter,
the fragments inputs are made of, and the property every corpus read must have.

Profiles, chosen by ARCHIVE_QA_FUZZ (default `ci`):

- `ci`: few examples per test, derandomized (the same examples on every run), no deadline, no example
  database: it runs in `make test`.
- `deep`: thousands of examples per test, random (each run looks somewhere new), failing examples kept in
  an example database outside the repo (~/.cache/archive-qa/fuzz-examples) and replayed first next time:
  `make fuzz` or `ARCHIVE_QA_FUZZ=deep pytest tests/test_fuzz_*.py`.

"Time linear in input size" is checked without timing anything that could flake: `work()` counts the
Python lines executed (sys.settrace) while reading an input of size n and of size 4n, and the ratio must stay
near 4 (quadratic work gives 16); `hang_guard()` is a generous alarm (seconds, for work of milliseconds) that
only catches work done inside C code, such as a regular expression backtracking, which no line count sees.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase

from qa.corpus import Corpus
from qa.corpus.lines import split_lines
from qa.corpus.raw import MAX_FIELD, MAX_FULL_TEXT, MAX_SUMMARY, MAX_TITLE, display_path
from qa.records import DETAIL_FIELDS, Record, parse_date

PROFILE = os.environ.get("ARCHIVE_QA_FUZZ", "ci")
DEEP = PROFILE == "deep"
_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture,
          HealthCheck.filter_too_much]

settings.register_profile("ci", max_examples=25, derandomize=True, deadline=None, database=None,
                          suppress_health_check=_QUIET, print_blob=False)
settings.register_profile("deep", max_examples=2_000, deadline=None, suppress_health_check=_QUIET, print_blob=True,
                          database=DirectoryBasedExampleDatabase(
                              Path(os.environ.get("ARCHIVE_QA_FUZZ_DB", "~/.cache/archive-qa/fuzz-examples"))
                              .expanduser()))
settings.load_profile(PROFILE if PROFILE in ("ci", "deep") else "ci")


def examples(ci: int, deep: int | None = None) -> settings:
    """Settings for one test: `ci` examples in make test, `deep` (default 80 × ci, at most 2,000) with make fuzz."""
    return settings(max_examples=(deep or min(2_000, 80 * ci)) if DEEP else ci)


# ---------------------------------------------------------------------------------------------- time


class Hang(AssertionError):
    """An input took far longer than its size allows: a hang, or work worse than linear inside C code."""


@contextlib.contextmanager
def hang_guard(seconds: float = 10.0) -> Iterator[None]:
    """Fail with Hang when the block runs for `seconds` (wall clock: a hang detector, never a timing test)."""

    def alarm(signum, frame):
        raise Hang(f"still running after {seconds} s: a hang, or work worse than linear")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def work(fn: Callable[[], object]) -> int:
    """The number of Python lines executed by fn(): a deterministic measure of work, whatever the machine."""
    count = 0

    def local(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
        return local

    def trace(frame, event, arg):
        return local

    previous = sys.gettrace()
    sys.settrace(trace)
    try:
        fn()
    finally:
        sys.settrace(previous)
    return count


def assert_linear(make: Callable[[int], Callable[[], object]], n: int, *, factor: int = 4, slack: float = 1.6) -> None:
    """The work for an input of size factor × n is at most about factor times that of size n (never factor²).

    A smaller input is read first, unmeasured, so that what is done once whatever the input (compiling regular
    expressions, lazy imports) is not counted and the measure is the same on every run; the inputs measured
    are new to the code, so a memo of earlier answers does not hide their work."""
    make(max(1, n // 2))()
    small, large = work(make(n)), work(make(factor * n))
    assert large <= slack * factor * small + 2_000, (
        f"work grows faster than the input: {small} lines for size {n}, {large} for size {factor * n}"
    )


# ---------------------------------------------------------------------------------------------- fragments

FIXTURES = Path(__file__).parent / "fixtures" / "pages"
PAGE_LINES = sorted({line for path in sorted(FIXTURES.glob("*.txt")) if path.name != "README.md"
                     for line in path.read_text(encoding="utf-8").splitlines()})
HTML_LINES = sorted({line for path in sorted(FIXTURES.glob("*.htm*"))
                     for line in path.read_bytes().decode("utf-8", "replace").splitlines()})
ODD_TEXT = [
    "", " ", "\t", "\u00a0", "\ufeff", "\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x00", "\x7f",
    "\r", "\r\n", "\n", "\ud7ff", "\U0001f600", "e\u0301", "\u202e", "İ", "ß", "ﬁ", "Ⅻ", "١٩٤٩", "１９４９",
    "<", "&amp;", "&#0;", "&#xd800;", "]]>", "<!--", "-->", "\\", '"', "'", ",", ";", "•", "-", "–", "—",
]
PAGE_PIECES = [
    "Skip to content", "Results:", "Results: 173", "31 - 40 of 108", "1 - 10 of 10", "Documents", "Popular Documents",
    "Placeholder image for when a portrait image is not available", "SEARCH RESULTS", "-", "1 2 Next", "Previous",
    "  \u2022 June 07, 1951", "    A Title", "\u2022 Citation", "\u2022 share document", "get citation", "English HTML",
    "Document Information", "Record ID", "500123", "Original Archive", "Associated People & Organizations",
    "Citation:", "Summary:", "Contents:", "Original Language:", "Translation - English", "### Record ID",
    "July 4, 1963", "Jul. 4, 1963", "4 July 1963", "September 1944", "1962", "1963-07-04", "1963-07", "0000",
    "99999", "1962-1963", "circa 1962", "1960s", "February 30, 1949", "May 0000", "12", "undated [1955]",
    "Memorandum of Conversation", "Cable, Kovalev to Stalin", "Transcript of Meeting [Excerpts]",
    "The conversation covers the talks.", "summary going on in lower case", "Mao Zedong", "A summary without a stop",
    "http://digitalarchive.wilsoncenter.org/document/112345", "<p>", "<html>", "#", "###",
]


def line_text() -> st.SearchStrategy[str]:
    """One line of a page: a real fixture line, a piece of a layout, odd characters, or random text."""
    return st.one_of(
        st.sampled_from(PAGE_LINES),
        st.sampled_from(PAGE_PIECES),
        st.sampled_from(ODD_TEXT),
        st.text(max_size=40),
        st.builds(lambda a, b: a + b, st.sampled_from(PAGE_PIECES), st.sampled_from(ODD_TEXT)),
    )


@st.composite
def page_text(draw, lines: st.SearchStrategy[str] | None = None, max_lines: int = 40) -> str:
    """A page built from fragments: lines with random indentation and blank-line gaps, in any line-ending style."""
    parts = []
    for text in draw(st.lists(lines or line_text(), max_size=max_lines)):
        gap = draw(st.sampled_from([0, 0, 0, 1, 1, 2, 3]))
        indent = draw(st.sampled_from(["", "", "", "  ", "    ", "\t"]))
        parts.extend([""] * gap + [indent + text])
    return draw(st.sampled_from(["\n", "\r\n", "\r"])).join(parts)


# ---------------------------------------------------------------------------------------------- the property

_SOURCE = re.compile(r"^(?P<path>.*?)(?::(?P<line>\d+))?$", re.S)
_LIMITS = {"title": MAX_TITLE, "summary": MAX_SUMMARY, "full_text": MAX_FULL_TEXT}


def line_count(data: bytes) -> int:
    """How many lines a file has as the readers count them (\\n, \\r\\n or \\r)."""
    return len(split_lines(data.decode("utf-8", "surrogateescape")))


def one_line(text: str) -> None:
    assert "\n" not in text and "\r" not in text, f"not one line: {text!r}"
    text.encode("utf-8")  # printable as it is: no lone surrogate


def assert_clear(corpus: Corpus, files: dict[str, bytes]) -> None:
    """The property of every read: records that are whole and valid, and problems that are one clear line each,
    pinned to a file that was read and a line it has; nothing went wrong inside a reader."""
    lines = {name: line_count(data) for name, data in files.items()}
    for problem in corpus.errors + corpus.warnings:
        text = str(problem)
        one_line(text)
        m = _SOURCE.match(problem.source)
        assert m is not None
        path, line = m.group("path"), m.group("line")
        if path not in lines and line is not None:  # a file name ending in digits after a colon
            path, line = problem.source, None
        assert path in lines, f"problem not pinned to a file read: {text}"
        if line is not None:
            assert 1 <= int(line) <= lines[path], f"line {line} of a file of {lines[path]} lines: {text}"
        assert not problem.message.startswith("not read past here"), f"a reader raised: {text}"
    for record in corpus.records:
        assert_valid(record, lines)


def assert_valid(record: Record, lines: dict[str, int]) -> None:
    assert record.title and record.title == " ".join(record.title.split()), repr(record.title)
    assert record.id
    path, _, line = record.source.rpartition(":")
    assert path in lines and 1 <= int(line) <= lines[path], record.source
    for name in ("title", "summary", "full_text"):
        assert len(getattr(record, name)) <= _LIMITS[name]
    for name in DETAIL_FIELDS:
        value = getattr(record, name)
        size = sum(map(len, value)) if isinstance(value, tuple) else len(value or "")
        assert size <= _LIMITS.get(name, MAX_FIELD), (name, size)
    if record.date is not None:
        assert parse_date(record.date) == (record.date, record.date_precision)
        assert record.date_start <= record.date_end
    row = record.to_dict()
    one_line(json.dumps(row, ensure_ascii=False))
    assert Record.from_dict(json.loads(json.dumps(row))) == record


def write_files(folder: Path, files: dict[str | bytes, bytes]) -> dict[str, bytes]:
    """Write files (name -> bytes) into a folder; the same, keyed by the path the corpus reports them under."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, data in files.items():
        path = os.path.join(os.fsencode(folder), os.fsencode(name))
        with open(path, "wb") as f:
            f.write(data)
        written[display_path(os.fsdecode(path))] = data
    return written
