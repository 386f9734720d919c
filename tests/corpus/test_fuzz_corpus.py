"""Fuzzing the corpus readers: any bytes, encoding, JSON or CSV shape, page layout or saved web page
gives records or one clear `file:line` problem each, never another exception, in time linear in its size.

The property is `fuzz_helpers.assert_clear`; the profiles (`ci` in make test, `deep` with make fuzz) and how
linear time is checked without timing are described in tests/fuzz_helpers.py.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import random
import re
import tempfile
from pathlib import Path

from fuzz_helpers import (
    FIXTURES,
    HTML_LINES,
    ODD_TEXT,
    PAGE_PIECES,
    assert_clear,
    assert_linear,
    examples,
    hang_guard,
    line_text,
    page_text,
    write_files,
)
from hypothesis import given
from hypothesis import strategies as st

from archive_qa.cli import main
from qa.corpus import FIELDS, load_corpus
from qa.corpus.html import MAX_ATTRIBUTES
from qa.corpus.lines import split_lines
from qa.corpus.raw import display_path
from qa.records import DETAIL_FIELDS

FORMATS = (".txt", ".html", ".htm", ".jsonl", ".csv")
ALL_FIELDS = FIELDS + DETAIL_FIELDS + ("date_precision", "source")
SURROGATES = ["\ud800", "\udfff", "\udc80", "a\ud83dz"]
# Charsets a page may declare that Python cannot decode it with: unknown, binary codecs, or ones that fail always.
ODD_CHARSETS = ["undefined", "punycode", "idna", "base64", "rot13", "zlib", "hex", "uu", "utf-7", "mbcs"]


def read(files: dict[str | bytes, bytes], *, folder: bool = False):
    """Write the files into a fresh folder and read them (the folder, or each file named), under the hang guard."""
    with tempfile.TemporaryDirectory() as tmp:
        written = write_files(Path(tmp) / "c", files)
        with hang_guard():
            corpus = load_corpus([Path(tmp) / "c"] if folder else [os.fsdecode(p) for p in _paths(tmp, files)])
        assert_clear(corpus, written)
        return corpus


def _paths(tmp: str, files: dict) -> list[bytes]:
    return [os.path.join(os.fsencode(tmp), b"c", os.fsencode(name)) for name in files]


def shape(corpus) -> tuple:
    """What a read gave, without the folder it was read from: records and problems with their line numbers."""
    def where(source: str) -> str:
        return source.rpartition(":")[2] if ":" in source else ""

    def said(message: str) -> str:  # a message naming another place in the file names it without the folder
        return _FOLDER.sub("", message)

    return (
        [(r.title, r.date, r.summary, r.full_text, r.url, r.people, where(r.source)) for r in corpus.records],
        [(where(p.source), said(p.message)) for p in corpus.errors],
        [(where(p.source), said(p.message)) for p in corpus.warnings],
    )


_FOLDER = re.compile(r"\S*/c/")


# ---------------------------------------------------------------------------------------------- bytes


@examples(40)
@given(data=st.binary(max_size=3000), suffix=st.sampled_from(FORMATS))
def test_any_bytes_in_any_format(data: bytes, suffix: str) -> None:
    read({f"f{suffix}": data})


@examples(30)
@given(text=page_text(), suffix=st.sampled_from(FORMATS), cuts=st.lists(st.integers(0, 5000), max_size=4),
       junk=st.binary(min_size=1, max_size=4))
def test_pages_with_bytes_cut_out_or_put_in(text: str, suffix: str, cuts: list[int], junk: bytes) -> None:
    data = bytearray(text.encode("utf-8", "surrogatepass"))
    for i, cut in enumerate(cuts):
        at = cut % (len(data) + 1)
        data[at:at + (1 if i % 2 else 0)] = junk if i % 2 == 0 else b""
    read({f"f{suffix}": bytes(data)})


# ---------------------------------------------------------------------------------------------- encodings


ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-32", "latin-1", "cp1252", "koi8-r", "shift_jis",
             "gb18030"]


@examples(30)
@given(text=page_text(), encoding=st.sampled_from(ENCODINGS), suffix=st.sampled_from(FORMATS),
       charset=st.sampled_from(["", "utf-8", "windows-1252", "koi8-r", "no-such-charset", "utf-16", *ODD_CHARSETS]))
def test_any_encoding_and_declared_charset(text: str, encoding: str, suffix: str, charset: str) -> None:
    if charset:
        text = f'<html><head><meta charset="{charset}"></head><body>\n{text}\n</body></html>'
    read({f"f{suffix}": text.encode(encoding, "replace" if "utf" not in encoding else "surrogatepass")})


@examples(len(ODD_CHARSETS))
@given(charset=st.sampled_from(ODD_CHARSETS))
def test_a_charset_that_cannot_decode_the_page_is_a_problem_line(charset: str) -> None:
    page = f'<html><head><meta charset="{charset}"></head><body>\n<p>1950</p><p>caf\xe9</p></body></html>'
    corpus = read({"p.html": page.encode("latin-1")})
    assert corpus.errors and not corpus.records  # the bad byte is reported, the rest of the corpus is read


@examples(12, 200)
@given(count=st.sampled_from([MAX_ATTRIBUTES + 1, 5 * MAX_ATTRIBUTES, 60_000]),
       attribute=st.sampled_from(["a{}", 'a{}="v"', "a{}='>'", 'a{}="<p>"', "a{}=v", 'x=a"b a{}', "a{}=''"]),
       tag=st.sampled_from(["div", "p", "a", "meta", "img"]), before=st.integers(0, 3))
def test_an_element_with_too_many_attributes_is_refused_before_parsing(count, attribute, tag, before) -> None:
    attributes = " ".join(attribute.format(i) for i in range(count))
    page = "<html><body>\n" + "<p>1950</p>\n" * before + f"<{tag} {attributes}>Title</{tag}>\n</body></html>"
    corpus = read({"p.html": page.encode("utf-8")})  # under the hang guard: 60,000 attributes took minutes
    assert [(e.source.rpartition(":")[2], e.message) for e in corpus.errors] == [
        (str(before + 2), f"page not read: an element has over {MAX_ATTRIBUTES:,} attributes")
    ]


@examples(12, 200)
@given(count=st.integers(0, MAX_ATTRIBUTES), attribute=st.sampled_from(["a{}", 'a{}="v > w"', "a{}='x'"]))
def test_an_element_with_as_many_attributes_as_allowed_is_read(count, attribute) -> None:
    attributes = " ".join(attribute.format(i) for i in range(count))
    page = f"<html><body>\n<div><p>June 7, 1951</p><p {attributes}>A Title</p></div>\n</body></html>"
    assert not any("attributes" in e.message for e in read({"p.html": page.encode("utf-8")}).errors)


def _plain_line() -> st.SearchStrategy[str]:
    return line_text().filter(lambda t: len(split_lines(t)) == 1)


@examples(30)
@given(lines=st.lists(_plain_line(), max_size=40), gaps=st.lists(st.integers(0, 3), min_size=40, max_size=40),
       suffix=st.sampled_from((".txt", ".jsonl", ".csv", ".html")))
def test_line_endings_and_a_byte_order_mark_change_nothing(lines: list[str], gaps: list[int], suffix: str) -> None:
    parts: list[str] = []
    for text, gap in zip(lines, gaps, strict=False):
        parts.extend([""] * gap + [text])
    if suffix == ".html":
        parts = ["<html><body>", *(f"<p>{p}</p>" if p else "" for p in parts), "</body></html>"]
    shapes = {
        (ending, bom): shape(read({f"f{suffix}": bom + ending.join(parts).encode("utf-8", "surrogatepass")}))
        for ending in ("\n", "\r\n", "\r") for bom in (b"", b"\xef\xbb\xbf")
    }
    first = next(iter(shapes.values()))
    assert all(s == first for s in shapes.values()), shapes


# ---------------------------------------------------------------------------------------------- JSON Lines


def json_values(depth: int = 3) -> st.SearchStrategy:
    leaves = st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=30), st.sampled_from(ODD_TEXT + SURROGATES + PAGE_PIECES),
        st.integers(min_value=10**20, max_value=10**40),
    )
    return st.recursive(leaves, lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=8)


def field_values() -> st.SearchStrategy:
    return st.one_of(
        st.sampled_from(PAGE_PIECES + ODD_TEXT + SURROGATES), st.text(max_size=60), json_values(),
        st.lists(st.sampled_from(["Mao Zedong", "Stalin", "", " ", "a;b", "\ud800"]), max_size=4),
        st.builds(lambda c, n: c * n, st.sampled_from(["x", "é ", "\n"]), st.sampled_from([1999, 2000, 2001, 10_001])),
    )


CONTROLS = [chr(c) for c in [*range(0x00, 0x20), *range(0x7F, 0xA0)]]
TERMINAL_TRICKS = ["\x1b]8;;https://evil.example/\x07", "\x1b]8;;\x07", "\x1b[2J", "\x1b[31m", "\x9b2J", "\r", "\x00"]


def with_controls() -> st.SearchStrategy[str]:
    """Text holding control characters: escape sequences that link, clear or colour a terminal, NUL, CR, C1."""
    pieces = st.one_of(st.sampled_from(CONTROLS + TERMINAL_TRICKS), st.sampled_from(["Report", "1950", " ", "coal"]))
    return st.lists(pieces, min_size=1, max_size=8).map("".join)


@examples(30)
@given(row=st.fixed_dictionaries({"title": with_controls().map(lambda t: f"T {t}")},
                                 optional={f: with_controls() for f in ALL_FIELDS if f != "title"}),
       command=st.sampled_from([["corpus", "show"], ["corpus", "show", "--json"], ["corpus", "check"]]))
def test_control_characters_in_any_field_never_reach_the_terminal(row: dict, command: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.jsonl"
        path.write_text(json.dumps(row) + "\n", encoding="utf-8")
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), hang_guard():
            main([*command, str(path)])
    raw = set(out.getvalue() + err.getvalue()) & (set(CONTROLS) - {"\n", "\t"})
    assert not raw, (out.getvalue(), err.getvalue())


def records_as_objects() -> st.SearchStrategy[dict]:
    keys = st.one_of(st.sampled_from(ALL_FIELDS), st.sampled_from([k.upper() for k in ALL_FIELDS] + [" title "]),
                     st.text(max_size=8))
    return st.dictionaries(keys, field_values(), max_size=8)


def jsonl_lines() -> st.SearchStrategy[str]:
    return st.one_of(
        records_as_objects().map(json.dumps),
        records_as_objects().map(lambda row: json.dumps(row, ensure_ascii=False)),
        json_values().map(json.dumps),
        st.sampled_from(['{"title": "A"', "{", "[" * 3000, '{"title": 1e400}', '{"title": NaN}', "", "  ",
                         '{"title": "A", "title": "B"}', '{"title": "\\ud800"}', '{"id": 1' + "0" * 5000 + "}"]),
        line_text(),
    )


def _jsonl(lines: list[str]) -> bytes:
    return "\n".join(lines).encode("utf-8", "surrogatepass")


def assert_each_line_accounted_for(corpus, name: str, numbers: set[int]) -> None:
    """Every line that held something gave a record, a problem, or a warning saying where it went."""
    seen = {int(r.source.rpartition(":")[2]) for r in corpus.records}
    seen |= {int(p.source.rpartition(":")[2]) for p in corpus.errors + corpus.warnings if p.source.startswith(name)
             and p.source[len(name):].startswith(":")}
    whole_file = any(p.source == name or p.message.endswith("file not read") for p in corpus.errors)
    assert whole_file or numbers <= seen, f"lines {sorted(numbers - seen)} gave nothing and no problem"


@examples(40)
@given(lines=st.lists(jsonl_lines(), max_size=30))
def test_json_lines_of_any_shape(lines: list[str]) -> None:
    data = _jsonl(lines)
    corpus = read({"e.jsonl": data})
    name = next(iter({p.source.rpartition(":")[0] for p in corpus.errors} | {r.source.rpartition(":")[0]
                                                                             for r in corpus.records}), None)
    if name:
        text = data.decode("utf-8", "replace").replace("\ufeff", "")  # byte-order marks are read as nothing
        numbers = {i for i, line in enumerate(split_lines(text), 1) if line.strip()}
        assert_each_line_accounted_for(corpus, name, numbers)


@examples(30)
@given(rows=st.lists(records_as_objects(), max_size=20))
def test_records_written_out_read_back_as_they_are(rows: list[dict]) -> None:
    first = read({"e.jsonl": _jsonl([json.dumps(r) for r in rows])})
    again = read({"again.jsonl": _jsonl([json.dumps(r.to_dict()) for r in first.records])})
    assert [{**r.to_dict(), "source": ""} for r in again.records] == [{**r.to_dict(), "source": ""}
                                                                      for r in first.records]
    assert again.errors == []


# ---------------------------------------------------------------------------------------------- CSV


def csv_cells() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(PAGE_PIECES + ODD_TEXT), st.text(max_size=30),
                     st.sampled_from(['a,b', 'say "no"', "two\nlines", "\r", '"', '""', "x" * 2001, "a;b;;c"]))


@st.composite
def csv_files(draw) -> tuple[bytes, list[int]]:
    """A CSV file written by the csv module (header and rows of any cells), and the lines its rows start on."""
    header = draw(st.lists(st.one_of(st.sampled_from(ALL_FIELDS + ("TITLE", " Title ")), csv_cells()),
                           min_size=1, max_size=7))
    rows = draw(st.lists(st.lists(csv_cells(), max_size=len(header) + 1), max_size=15))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]))
    ending = draw(st.sampled_from(["\r\n", "\n"]))
    out = io.StringIO(newline="")
    writer = csv.writer(out, quoting=quoting, lineterminator=ending)
    writer.writerow(header)
    starts = []
    for row in rows:
        starts.append(len(split_lines(out.getvalue())))
        writer.writerow(row)
    filled = [start for start, row in zip(starts, rows, strict=True) if any(c.strip() for c in row)]
    if [r for r in csv.reader(io.StringIO(out.getvalue(), newline="")) if r][1:] != [r for r in rows if r]:
        filled = []  # the csv module wrote something it does not read back the same (a lone \r): no line to expect
    return out.getvalue().encode("utf-8", "surrogatepass"), filled


@examples(40)
@given(made=csv_files())
def test_csv_of_any_shape(made: tuple[bytes, list[int]]) -> None:
    data, starts = made
    corpus = read({"e.csv": data})
    header_problem = any(p.source.endswith(":1") and ("header" in p.message or "CSV" in p.message)
                         for p in corpus.errors)
    if starts and not header_problem and corpus.records + corpus.errors:
        name = (corpus.records[0].source if corpus.records else corpus.errors[0].source).rpartition(":")[0]
        assert_each_line_accounted_for(corpus, name, set(starts))


@examples(30)
@given(lines=st.lists(st.one_of(csv_cells(), line_text()), max_size=20))
def test_csv_written_by_hand(lines: list[str]) -> None:
    read({"e.csv": "\n".join(["title,date,summary", *lines]).encode("utf-8", "surrogatepass")})


# ---------------------------------------------------------------------------------------------- pages


@examples(60)
@given(text=page_text())
def test_pages_built_from_layout_fragments(text: str) -> None:
    corpus = read({"p.txt": text.encode("utf-8", "surrogatepass")})
    furniture = [w for w in corpus.warnings if "looks like page furniture" in w.message]
    assert not furniture, furniture
    assert shape(corpus) == shape(read({"p.txt": text.encode("utf-8", "surrogatepass")}))  # the same every time


FIXTURE_FILES = sorted(p for p in FIXTURES.iterdir() if p.suffix in FORMATS)


@st.composite
def mutated_fixture(draw) -> tuple[str, bytes]:
    """A fixture page with lines deleted, repeated, swapped, replaced or cut short."""
    path = draw(st.sampled_from(FIXTURE_FILES))
    lines = path.read_bytes().split(b"\n")
    for _ in range(draw(st.integers(1, 6))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        j = draw(st.integers(i, min(len(lines), i + 8)))
        how = draw(st.sampled_from(["delete", "repeat", "swap", "replace", "cut", "indent"]))
        if how == "delete":
            del lines[i:j]
        elif how == "repeat":
            lines[i:i] = lines[i:j]
        elif how == "swap":
            lines[i], lines[j - 1] = lines[j - 1], lines[i]
        elif how == "replace":
            lines[i] = draw(line_text()).encode("utf-8", "surrogatepass")
        elif how == "cut":
            lines[i] = lines[i][: draw(st.integers(0, max(0, len(lines[i]) - 1)))]
            if draw(st.booleans()):
                del lines[i + 1:]
        else:
            lines[i] = b"    " + lines[i]
    return path.name, b"\n".join(lines)


@examples(60)
@given(page=mutated_fixture())
def test_fixture_pages_damaged_at_random(page: tuple[str, bytes]) -> None:
    name, data = page
    read({name: data})


TAGS = ["div", "p", "span", "a", "li", "ul", "h1", "h2", "h3", "br", "script", "style", "nav", "header", "footer",
        "form", "noscript", "template", "table", "td", "article", "main", "b", "em", "svg", "iframe", "hidden"]
ATTRS = ['href="/document/500123"', 'href="https://digitalarchive.wilsoncenter.org/document/1"', 'href="#x"',
         'href="javascript:void(0)"', 'href="http://[::1"', 'href=""', 'hidden', 'style="display:none"',
         'aria-hidden="true"', 'class="search-result"', 'rel="canonical"']


@st.composite
def html_tree(draw, depth: int = 0) -> str:
    if depth > 4 or draw(st.integers(0, 3)) == 0:
        return draw(st.one_of(line_text(), st.sampled_from(HTML_LINES)))
    tag = draw(st.sampled_from(TAGS))
    attrs = " ".join(draw(st.lists(st.sampled_from(ATTRS), max_size=2)))
    inner = "\n".join(draw(st.lists(html_tree(depth + 1), max_size=4)))
    close = draw(st.sampled_from([f"</{tag}>", f"</{tag}>", ""]))
    return f"<{tag} {attrs}>{inner}{close}"


@examples(40)
@given(body=html_tree(), head=st.lists(st.sampled_from([
    '<meta charset="utf-8">', '<base href="https://digitalarchive.wilsoncenter.org/">', '<base href="::">',
    '<link rel="canonical" href="https://digitalarchive.wilsoncenter.org/search">', '<title>x</title>',
    '<meta property="og:url" content="http://[bad">', "<!-- saved from url=(0040)https://x.org/document/1 -->",
]), max_size=3), suffix=st.sampled_from([".html", ".htm"]))
def test_saved_web_pages_of_any_tree(body: str, head: list[str], suffix: str) -> None:
    page = f"<!DOCTYPE html>\n<html><head>{''.join(head)}</head>\n<body>\n{body}\n</body></html>"
    read({f"p{suffix}": page.encode("utf-8", "surrogatepass")})


# ---------------------------------------------------------------------------------------------- folders


NAMES = [b"a.txt", b"caf\xe9.txt", b"two\nlines.jsonl", b"tab\tname.csv", b"x.HTML", b"README.txt", b".hidden.txt",
         b"notes.md", b"\xff\xfe.csv", b"ok.jsonl", b"spaces .txt", b"colon:1.txt"]
FOLDERS = [b"", b"coll", b"coll/sub", b"\xe9", b"a\nb"]
# Links inside the corpus folder only: to a parent (a loop), to itself, to a sibling, to nothing.
TARGETS = [b".", b"..", b"coll", b"../coll", b"/nonexistent-target", b"missing"]


@examples(25)
@given(layout=st.lists(st.tuples(st.sampled_from(FOLDERS), st.sampled_from(NAMES), st.sampled_from(PAGE_PIECES)),
                       max_size=8),
       links=st.lists(st.tuples(st.sampled_from(FOLDERS[1:]), st.sampled_from(TARGETS)), max_size=3))
def test_folders_with_odd_names_and_links(layout: list[tuple[bytes, bytes, str]], links: list) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = os.path.join(os.fsencode(tmp), b"corpus")
        real: dict[bytes, bytes] = {}
        for folder, name, text in layout:
            os.makedirs(os.path.join(root, folder), exist_ok=True)
            data = f"July 4, 1963\n\n{text}\n\nA summary.\n".encode()
            with open(os.path.join(root, folder, name), "wb") as f:
                f.write(data)
            real[os.path.realpath(os.path.join(root, folder, name))] = data
        for i, (where, target) in enumerate(links):
            os.makedirs(os.path.join(root, where), exist_ok=True)
            os.symlink(target, os.path.join(root, where, b"link%d" % i))
        with hang_guard():
            corpus = load_corpus([os.fsdecode(root)], root=os.fsdecode(root))
        shown = _shown_paths(root)
        files = {}
        for item in corpus.records + corpus.errors + corpus.warnings:
            head, _, tail = item.source.rpartition(":")
            path = head if tail.isdigit() else item.source
            actual = shown.get(path) or os.fsencode(path)
            files[path] = real.get(os.path.realpath(actual), b"")
        assert_clear(corpus, files)


def _shown_paths(folder: bytes, depth: int = 0) -> dict[str, bytes]:
    """Every path below a folder, following links a few levels deep, by the name the corpus shows it under."""
    found = {display_path(os.fsdecode(folder)): folder}
    if depth < 5 and os.path.isdir(folder):
        for name in os.listdir(folder):
            found.update(_shown_paths(os.path.join(folder, name), depth + 1))
    return found


# ---------------------------------------------------------------------------------------------- linear time


UNITS = {
    ".txt": st.lists(line_text(), min_size=1, max_size=6).map(lambda ls: "\n".join(ls) + "\n"),
    ".jsonl": records_as_objects().map(lambda r: json.dumps(r) + "\n"),
    ".csv": st.lists(csv_cells(), min_size=1, max_size=3).map(lambda cs: ",".join(json.dumps(c) for c in cs) + "\n"),
    ".html": html_tree().map(lambda t: t + "\n"),
}
HEADS = {".txt": "Skip to content\n", ".jsonl": "", ".csv": "title,date,summary\n", ".html": "<html><body>\n"}


@examples(8, 200)
@given(suffix=st.sampled_from(sorted(UNITS)), data=st.data())
def test_reading_is_linear_in_the_number_of_entries(suffix: str, data) -> None:
    unit = data.draw(UNITS[suffix])

    def make(n: int):
        def run():
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / f"f{suffix}"
                path.write_bytes((HEADS[suffix] + unit * n).encode("utf-8", "surrogatepass"))
                load_corpus([path])
        return run

    with hang_guard(60):
        assert_linear(make, 25)


def _wide(suffix: str, piece: str, n: int) -> str:
    """One entry made wide: n columns, n fields, n words on a line, n elements side by side."""
    piece = piece.replace("\n", " ").replace("\r", " ") or "x"
    if suffix == ".csv":
        names = ",".join(json.dumps(f"{piece}{i}") for i in range(n))
        return f"title,{names}\nT,{','.join([json.dumps(piece)] * n)}\n"
    if suffix == ".jsonl":
        return json.dumps({"title": "T", **{f"{piece}{i}": piece for i in range(n)}}) + "\n"
    if suffix == ".html":
        return "<html><body><div><p>1950</p><p>" + f"<b>{piece}</b> " * n + "</p></div></body></html>\n"
    return f"Skip to content\n1950\n{' '.join([piece] * n)}\n"


@examples(8, 200)
@given(suffix=st.sampled_from(sorted(UNITS)), piece=st.one_of(st.sampled_from(PAGE_PIECES + ODD_TEXT),
                                                              st.text(min_size=1, max_size=8)))
def test_reading_is_linear_in_the_width_of_a_line(suffix: str, piece: str) -> None:
    def make(n: int):
        def run():
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / f"f{suffix}"
                path.write_bytes(_wide(suffix, piece, n).encode("utf-8", "surrogatepass"))
                load_corpus([path])
        return run

    with hang_guard(60):
        assert_linear(make, 30)


@examples(8, 200)
@given(suffix=st.sampled_from(sorted(UNITS)), piece=st.one_of(st.sampled_from(PAGE_PIECES + ODD_TEXT),
                                                              st.text(min_size=1, max_size=8)))
def test_one_long_line_is_read_without_backtracking(suffix: str, piece: str) -> None:
    """A line of 60,000 characters made of one piece repeated: regular expressions on it must not backtrack."""
    piece = piece or "x"
    line = (piece * (60_000 // len(piece) + 1))[:60_000].replace("\n", " ").replace("\r", " ")
    text = {".jsonl": json.dumps({"title": "T", "summary": line}), ".csv": "title,summary\nT," + json.dumps(line)}
    read({f"f{suffix}": (HEADS[suffix] + text.get(suffix, line) + "\n").encode("utf-8", "surrogatepass")})


def test_the_linearity_check_catches_quadratic_work() -> None:
    """The work counter is a real check: a quadratic loop fails it, a linear one passes."""
    assert_linear(lambda n: (lambda: [[j for j in range(3)] for i in range(n)]), 60)
    try:
        assert_linear(lambda n: (lambda: [[j for j in range(i)] for i in range(n)]), 60)
    except AssertionError:
        return
    raise AssertionError("a quadratic loop passed the linearity check")


def test_a_seeded_random_corpus_of_every_format_reads_clearly() -> None:
    """A fixed random mix of every generator above, in one folder, as the index reads it."""
    rng = random.Random(15)
    files = {}
    for i in range(40):
        suffix = FORMATS[i % len(FORMATS)]
        lines = [rng.choice(PAGE_PIECES + ODD_TEXT + HTML_LINES[:50]) for _ in range(rng.randrange(30))]
        files[f"f{i}{suffix}"] = "\n".join(lines).encode("utf-8", "surrogatepass")
    read(files, folder=True)
