"""Saved web pages (.html, .htm): the page's text as lines, as a browser shows it, with each line's link.

The page is parsed with lxml (libxml2's HTML parser: fast, keeps each element's source line, and
copes with the broken markup saved pages have). Scripts, styles, forms, navigation and hidden
parts never become lines. A line's `indent` is the number of block elements around it. A line
that is all one link carries the link's address, resolved against the page's own address: its
`<base href>`, else `<link rel=canonical>`, else `og:url`, else the `saved from url=` note
browsers write at the top of a saved page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urldefrag, urljoin, urlsplit

import lxml.etree
import lxml.html

from qa.corpus.lines import Line, fold

_SKIP = frozenset({
    "head", "script", "style", "noscript", "template", "svg", "math", "iframe", "object", "embed", "canvas",
    "audio", "video", "map", "nav", "form", "button", "select", "input", "textarea", "dialog",
})
_SKIP_ROLES = frozenset({"navigation", "banner", "contentinfo", "search", "menu", "menubar", "dialog"})
_BLOCKS = frozenset({
    "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "html",
    "legend", "li", "main", "ol", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th",
    "thead", "tr", "ul", "br",
})
_SAVED_FROM = re.compile(rb"<!-- saved from url=\(\d+\)(\S+?) ?-->")
_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?([A-Za-z0-9_.:-]{1,40})""", re.I)
_SNIFF = 4096
_LINE_BREAK = re.compile(r"\r\n?")
# An element's start tag up to its `>`, a quoted value (after `=`, as the parser reads one) taken whole; no
# backtracking (possessive), so finding them all is linear in the page's length.
_START_TAG = re.compile(r"""<[A-Za-z](?:=\s*+(?:"[^"]*+"|'[^']*+')|[^=>]++|=)*+""")
_VALUE = re.compile(r"""=\s*+(?:"[^"]*+"|'[^']*+'|[^\s>]*+)""")
_NAME = re.compile(r"[^\s/]+")
MAX_ATTRIBUTES = 1000  # a start tag with more is not parsed: libxml2's time grows with their square


def declared_charset(data: bytes) -> str | None:
    """The character set a page declares in its first bytes (`<meta charset=…>`), if any."""
    found = _CHARSET.search(data[:_SNIFF])
    return found.group(1).decode("ascii").lower() if found else None


@dataclass(slots=True)
class Page:
    """A saved web page read into lines, with its own address (None when it does not say)."""

    lines: list[Line]
    url: str | None
    relative_links: int = 0  # title-like links that could not be made absolute
    problem: tuple[int, str] | None = None  # (line, message) when the parser gave up part of the page


def html_page(text: str) -> Page:
    """The lines of a saved web page and its address."""
    text = _LINE_BREAK.sub("\n", text)  # libxml2 counts lines at \n only: a page saved with \r alone is one line
    crowded = _crowded_tag(text)
    if crowded is not None:
        return Page([], None, problem=(crowded, f"page not read: an element has over {MAX_ATTRIBUTES:,} attributes"))
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True, huge_tree=True)
    try:
        root = lxml.html.document_fromstring(text.encode("utf-8"), parser=parser)
    except (lxml.etree.ParserError, ValueError):  # an empty document
        return Page([], None)
    limit = next((e for e in parser.error_log if e.type_name == "ERR_RESOURCE_LIMIT" or e.level_name == "FATAL"), None)
    if limit is not None:
        return Page([], None, problem=(limit.line or 1, f"page not read: {limit.message.split(',')[0]}"))
    base = _page_address(root, text)
    renderer = _Renderer(base)
    renderer.walk(root)
    return Page(renderer.lines, base, renderer.relative)


def _crowded_tag(text: str) -> int | None:
    """The line of the first start tag with more than MAX_ATTRIBUTES attributes, if any (found in linear time)."""
    if text.count("=") + text.count(" ") <= MAX_ATTRIBUTES:
        return None
    for tag in _START_TAG.finditer(text):
        if tag.end() - tag.start() > 2 * MAX_ATTRIBUTES:  # an attribute takes two characters at least
            names = _NAME.findall(_VALUE.sub(" ", tag.group()))
            if len(names) - 1 > MAX_ATTRIBUTES:
                return text.count("\n", 0, tag.start()) + 1
    return None


def _page_address(root: lxml.html.HtmlElement, text: str) -> str | None:
    """The page's own address, absolute http(s) only."""
    candidates = [
        *(el.get("href") for el in root.iter("base")),
        *(el.get("href") for el in root.iter("link") if "canonical" in (el.get("rel") or "").lower().split()),
        *(el.get("content") for el in root.iter("meta") if (el.get("property") or "").lower() == "og:url"),
    ]
    saved = _SAVED_FROM.search(text[:_SNIFF].encode("utf-8", "replace"))
    if saved:
        candidates.append(saved.group(1).decode("utf-8", "replace"))
    return next((c.strip() for c in candidates if c and _absolute(c.strip())), None)


def _absolute(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket: "http://[bad"
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


@dataclass(slots=True)
class _Renderer:
    """Walks the page's elements, writing its visible text a block a line, and noting each line's links."""

    base: str | None
    lines: list[Line] = field(default_factory=list)
    relative: int = 0
    _parts: list[str] = field(default_factory=list)
    _number: int = 0
    _links: list[tuple[str, str]] = field(default_factory=list)  # (address, text) of the links on this line
    _open: list[tuple[str | None, int]] = field(default_factory=list)  # each open <a>: address, where its text starts
    _depth: int = 0  # block elements open: a line's `indent`, so an entry's parts can be told from the page's
    _line_depth: int = 0

    def walk(self, root: lxml.html.HtmlElement) -> None:
        walker = lxml.etree.iterwalk(root, events=("start", "end"))
        for event, el in walker:
            tag = el.tag if isinstance(el.tag, str) else ""  # comments and processing instructions have no name
            shown = bool(tag) and not _hidden(el, tag)
            if event == "start":
                if shown:
                    self._start(el, tag)
                else:
                    walker.skip_subtree()
            else:
                if shown:
                    self._end(tag)
                self._text(el.tail, el)
        self._flush()

    def _start(self, el: lxml.html.HtmlElement, tag: str) -> None:
        if tag in _BLOCKS:
            self._flush()
            self._depth += 1
        if tag == "a":
            self._open.append((el.get("href"), len(self._parts)))
        self._text(el.text, el)

    def _end(self, tag: str) -> None:
        if tag == "a" and self._open:
            href, start = self._open.pop()
            if href:
                self._links.append((href, fold(" ".join(self._parts[start:]))))
        if tag in _BLOCKS:
            self._flush()
            self._depth -= 1

    def _text(self, text: str | None, el: lxml.html.HtmlElement) -> None:
        if text and text.strip():
            if not any(p.strip() for p in self._parts):
                self._number = el.sourceline or self._number or 1
                self._line_depth = self._depth
            self._parts.append(text)

    def _flush(self) -> None:
        text = fold(" ".join(self._parts))
        if text:
            self.lines.append(Line(self._number, text, self._line_depth, href=self._href(text)))
        self._parts.clear()
        self._links.clear()
        self._open = [(href, 0) for href, _ in self._open]  # a link running on into the next line

    def _href(self, text: str) -> str | None:
        """The address of the link that makes up the whole line, made absolute; None if there is none."""
        href = next((h for h, t in self._links if t == text), None)
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
            return None
        try:
            url = urldefrag(urljoin(self.base or "", href.strip())).url
        except ValueError:  # an address that is not one ("http://[bad"): no URL, and not a relative link either
            return None
        if not _absolute(url):
            self.relative += 1
            return None
        return url


def _hidden(el: lxml.html.HtmlElement, tag: str) -> bool:
    """Elements never read as a page's text: scripts, styles, forms, navigation, the site's own header and
    footer (not those of an article), hidden parts."""
    return (
        tag in _SKIP
        or (el.get("role") or "").lower() in _SKIP_ROLES
        or el.get("hidden") is not None
        or (el.get("aria-hidden") or "").lower() == "true"
        or tag in ("header", "footer") and not any(a.tag in ("main", "article") for a in el.iterancestors())
    )
