"""What a word is, for every tokenizer of the project: a run of letters or digits, in any script."""

from __future__ import annotations

import re

WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    """The words of a text, in order, as written."""
    return WORD.findall(text)
