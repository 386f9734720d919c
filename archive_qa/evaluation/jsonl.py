"""Reading the evaluation's JSON Lines files (question sets, BEIR corpora and queries): one reader, errors by line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path


def read_rows(path: Path, error: type[Exception], what: str) -> Iterator[tuple[str, object]]:
    """Each non-blank line of the file parsed, with its place ("file:line"); `error` names the file (it cannot
    be read as `what`) or the line (not valid JSON)."""
    try:
        with Path(path).open(encoding="utf-8") as f:
            for number, line in enumerate(f, start=1):
                if line.strip():
                    where = f"{path}:{number}"
                    yield where, _parse(line, where, error)
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: cannot read {what} ({exc})") from None


def _parse(line: str, where: str, error: type[Exception]) -> object:
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise error(f"{where}: not valid JSON ({exc.msg})") from None
