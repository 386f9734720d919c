"""Reading the collection: listing and document pages (.txt, .html), JSON Lines and CSV exports into records.

`load_corpus` finds the files (`qa.corpus.scan`), reads each through one guarded reader that turns
any failure into a `file:line` problem, settles ids (`qa.corpus.ids`) and adds a warning for each
record that looks like page furniture. Pages are read by layout (`qa.corpus.layouts`), exports
field by field (`qa.corpus.exports`).
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from qa.corpus.exports import parse_csv, parse_jsonl
from qa.corpus.html import declared_charset, html_page
from qa.corpus.ids import settle_ids
from qa.corpus.layouts import read_page
from qa.corpus.lines import split_lines, text_lines
from qa.corpus.raw import MAX_EXPORT_BYTES, MAX_LISTED, MAX_PAGE_BYTES, Problem, Raw, Sink, checked, display_path
from qa.corpus.scan import collection_name, root_of, scan
from qa.corpus.suspects import suspect_warnings
from qa.records import Record

_HTML = re.compile(r"^\s*<(!doctype|html|head|body|div|meta)\b", re.I)
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")
_MAX_BAD_BYTE_LINES = 5


@dataclass(slots=True)
class Corpus:
    """The records read from a set of files, with what was wrong or odd on the way."""

    records: list[Record] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    per_file: dict[str, int] = field(default_factory=dict)
    read: dict[str, list[Record]] = field(default_factory=dict)  # each file's records as read, before ids settle
    unlisted: int = 0  # errors past the first few of a file, less the one line each such file has counting them

    @property
    def error_count(self) -> int:
        """Every error found, listed or not."""
        return len(self.errors) + self.unlisted

    @property
    def date_span(self) -> tuple[str, str] | None:
        dates = sorted(r.date for r in self.records if r.date)
        return (dates[0], dates[-1]) if dates else None


def corpus_files(paths: Iterable[Path]) -> tuple[list[Path], list[Problem]]:
    """The readable corpus files under the given files or folders, sorted so ids and order are stable.

    Folders are searched recursively, following linked folders (each real folder once), skipping
    hidden entries and README files; what cannot be read (a broken link, a file that is not a
    regular file, an unknown format named explicitly, a path that does not exist) is returned as a
    problem and left out of the files.
    """
    found = scan(paths)
    return found.files, found.errors


def load_corpus(
    paths: Iterable[Path | str],
    *,
    root: Path | str | None = None,
    known: Callable[[Path, str], list[Record] | None] | None = None,
) -> Corpus:
    """Read every corpus file under the given files or folders; never raises on bad input.

    A file's collection is its folder below `root` (the corpus folder) when it lies under it,
    else its folder below the folder argument it was found in, else the file's own name.
    Ids do not depend on the order in which files are given or found. `known(path, name)` may
    give a file's records as read before (the index keeps them by the file's digest): such a
    file is not read again.
    """
    roots = [Path(p) for p in paths]
    found = scan(roots)
    corpus = Corpus(errors=found.errors, warnings=found.warnings)
    candidates: list[Record] = []
    dropped: dict[str, dict[str, int]] = {"error": {}, "warning": {}}
    for path in found.files:
        name = display_path(path)
        read = known(path, name) if known is not None else None
        if read is None:
            collection = collection_name(path, root_of(path, roots, root))
            sink = Sink(name, corpus.errors, corpus.warnings)
            read = read_file(path, collection, sink)
            for kind, count in sink.dropped.items():
                dropped[kind][name] = count
        if read is not None:
            corpus.per_file[name] = 0
            corpus.read[name] = read
            candidates.extend(read)
    corpus.records = settle_ids(candidates, Sink("", corpus.errors, corpus.warnings))
    for record in corpus.records:
        corpus.per_file[record.source.rsplit(":", 1)[0]] += 1
    corpus.warnings.extend(Problem(source, message) for source, message in suspect_warnings(corpus.records))
    order = lambda problem: _problem_order(problem, found.order)  # noqa: E731
    corpus.errors, corpus.unlisted = _listed(corpus.errors, "error", dropped["error"], order)
    corpus.warnings, _ = _listed(corpus.warnings, "warning", dropped["warning"], order)
    return corpus


def _listed(problems: list[Problem], kind: str, dropped: dict[str, int], order) -> tuple[list[Problem], int]:
    """The problems in order, at most MAX_LISTED of each file, then one line for each file counting the rest
    (those dropped while it was read too); and how many that leaves unlisted, less the lines counting them."""
    listed, extra, first = Counter(), Counter(dropped), {}
    out = []
    for problem in sorted(problems, key=order):
        path = _file_of(problem)
        listed[path] += 1
        if listed[path] <= MAX_LISTED:
            out.append(problem)
        else:
            extra[path] += 1
            first.setdefault(path, problem.source)
    counted = [(path, n) for path, n in extra.items() if n]
    out += [Problem(first.get(path, path), f"and {n:,} more {kind}s in this file, not listed") for path, n in counted]
    out.sort(key=order)
    return out, sum(n for _, n in counted) - len(counted)


def _file_of(problem: Problem) -> str:
    path, _, line = problem.source.rpartition(":")
    return path if line.isdigit() else problem.source


def _problem_order(problem: Problem, order: dict[str, int]) -> tuple[int, int]:
    """Problems in the order the files were found, then by line."""
    path, _, line = problem.source.rpartition(":")
    if line.isdigit() and path in order:
        return order[path], int(line)
    return order.get(problem.source, len(order)), 0


# ---------------------------------------------------------------------------------------------- one file


def read_file(path: Path, collection: str, sink: Sink) -> list[Record] | None:
    """The records of one file, each checked but without its final id; None if the file is unreadable.

    Whatever goes wrong while reading becomes a problem on the line reached: this never raises.
    """
    suffix = path.suffix.lower()
    text = _read_text(path, sink, html=suffix in (".html", ".htm"))
    if text is None:
        return None
    errors = len(sink.errors)
    records: list[Record] = []
    line = 1
    try:
        for raw in _PARSERS[suffix](text, sink):
            line = raw.line
            if (record := checked(raw, collection, sink)) is not None:
                records.append(record)
    except Exception as exc:  # noqa: BLE001 - any failure is the file's problem, never a traceback
        sink.error(line, f"not read past here: {type(exc).__name__}: {str(exc)[:200]}")
    if not records and len(sink.errors) == errors:
        sink.warnings.append(Problem(sink.path, "no records in this file"))
    return records


def _read_text(path: Path, sink: Sink, *, html: bool) -> str | None:
    limit = MAX_EXPORT_BYTES if path.suffix.lower() in (".jsonl", ".csv") else MAX_PAGE_BYTES
    try:
        with path.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            data = f.read(limit + 1) if size <= limit else b""
    except OSError as exc:
        sink.errors.append(Problem(sink.path, f"cannot read file ({exc.strerror or exc})"))
        return None
    if size > limit or len(data) > limit:
        size = max(size, len(data))
        sink.errors.append(Problem(sink.path, f"file refused: it is {size:,} bytes long (the limit for a "
                                   f"{path.suffix.lower()} file is {limit:,}): split it into smaller files"))
        return None
    try:
        return _without_byte_order_marks(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    charset = declared_charset(data) if html else None
    if charset and charset not in ("utf-8", "utf8"):
        try:
            return _without_byte_order_marks(data.decode(charset))
        except (LookupError, UnicodeError, ValueError):  # a charset Python does not know, or one that fails them all
            pass
    _report_bad_bytes(data, sink)
    return None


def _without_byte_order_marks(text: str) -> str:
    """The text without U+FEFF: the byte-order mark a file starts with, or that files joined together (`cat a b`)
    or saved twice over leave at the start of a line; inside text it is an invisible character."""
    return text.replace("\ufeff", "") if "\ufeff" in text else text


def _report_bad_bytes(data: bytes, sink: Sink) -> None:
    """One problem per line holding a byte that is not UTF-8 (the first few lines, then a count)."""
    text = data.decode("utf-8", "surrogateescape")  # each bad byte becomes one character U+DC80..U+DCFF
    bad = [(number, m.group()) for number, line in enumerate(split_lines(text), start=1)
           if (m := _ESCAPED_BYTE.search(line))]
    for number, char in bad[:_MAX_BAD_BYTE_LINES]:
        sink.error(number, f"byte 0x{ord(char) - 0xDC00:02x} is not UTF-8 (save the file as UTF-8); file not read")
    if len(bad) > _MAX_BAD_BYTE_LINES:
        sink.error(bad[_MAX_BAD_BYTE_LINES][0], f"and {len(bad) - _MAX_BAD_BYTE_LINES} more lines like it")


def _parse_text_page(text: str, sink: Sink) -> Iterator[Raw]:
    """A page saved as text: its layout recognised, then read."""
    if _HTML.match(text):
        sink.error(1, "this is an HTML page saved under a .txt name (name it .html, or save the page as plain text)")
        return
    yield from read_page(text_lines(text), sink)


def _parse_html_page(text: str, sink: Sink) -> Iterator[Raw]:
    """A saved web page: its text as lines, its layout recognised, then read; entries take their title's link."""
    page = html_page(text)
    if page.problem is not None:
        sink.error(*page.problem)
    unlinked = 0
    for raw in read_page(page.lines, sink, page.url):
        unlinked += raw.url is None
        yield raw
    if unlinked and page.relative_links:
        sink.warn(1, f"{unlinked} record(s) without a URL: the page's links are relative and it does not say its "
                  "own address (no <base>, canonical link or og:url)")


_PARSERS: dict[str, Callable[[str, Sink], Iterator[Raw]]] = {
    ".txt": _parse_text_page,
    ".html": _parse_html_page,
    ".htm": _parse_html_page,
    ".jsonl": parse_jsonl,
    ".csv": parse_csv,
}
