"""Lines of a document page that are never its title or summary: credits, rights, field labels, attendance lines.

Each test looks at one line and takes time linear in it. They are used while reading a document
page (such a line is skipped where a title or summary is looked for) and after reading (`corpus
check` warns about a record whose title or summary is one).
"""

from __future__ import annotations

import re

from qa.corpus.furniture import is_furniture

MAX_CREDIT = 400
# "This document was made possible with support from the … Foundation", "Translated for … by …".
_CREDIT = re.compile(
    r"\bmade possible (with|by|through|thanks)\b|^this (document|translation|record|collection) (was|is|has been) "
    r"(made possible|funded|translated|digitized|obtained|provided|donated)\b|^with (the )?(generous )?support "
    r"(of|from)\b|^(funded|sponsored|supported|translated|transcribed|obtained|contributed|donated|digitized) "
    r"(\S+ ){0,3}?by\b",
    re.I,
)
# "… is made available for research and teaching purposes only", "Permission to reproduce …".
_RIGHTS = re.compile(
    r"\bmade available for (research|educational)|\bpermission to reproduce\b|\ball rights reserved\b|"
    r"\brights holder\b|^(copyright|©)|\bpublic domain\b",
    re.I,
)
# A field label alone on its line: `Author(s):`, `Summary:`, `Original Language:`.
_LABEL = re.compile(r"^[^\W\d_][\w ()/&.,'-]{0,48}:$")
# In an attendance line, a name with its surname in capitals: `A.I. MIKOYAN`, `Fidel CASTRO`, `MAO Zedong`.
_CAPITAL_NAME = re.compile(
    r"(?:\b[A-Z]\.\s?)+[A-Z][A-Z'-]*[AEIOUY][A-Z'-]*\b|\b[A-Z][a-z]+\s[A-Z][A-Z'-]*[AEIOUY][A-Z'-]+\b"
    r"|\b[A-Z]*[AEIOUY][A-Z]*[AEIOUY][A-Z]*\s[A-Z][a-z]+\b"
)
_PRESENT = re.compile(r"^(present|participants|attended by|in attendance)\b\s*:?", re.I)


def is_credit(text: str) -> bool:
    """Whether a line credits who funded, translated or obtained the document."""
    return len(text) <= MAX_CREDIT and bool(_CREDIT.search(text))


def is_rights(text: str) -> bool:
    """Whether a line is the archive's rights statement or part of it."""
    return len(text) <= 2 * MAX_CREDIT and bool(_RIGHTS.search(text))


def is_field_label(text: str) -> bool:
    """Whether a line is only a field's label with its colon (`Author(s):`)."""
    return bool(_LABEL.match(text))


def is_attendance(text: str) -> bool:
    """Whether a line lists who took part in a conversation: `A.I. MIKOYAN with Fidel CASTRO, Osvaldo DORTICOS`."""
    if len(text) > MAX_CREDIT:
        return False
    if _PRESENT.match(text):
        return True
    return sum(1 for _ in _CAPITAL_NAME.finditer(text)) >= 2


def never_heading(text: str) -> bool:
    """Whether a line can be neither a document's title nor its summary."""
    return is_furniture(text) or is_credit(text) or is_rights(text) or is_field_label(text) or is_attendance(text)
