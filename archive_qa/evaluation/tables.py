"""Figures as text: one cell format, Markdown tables and aligned plain-text tables (evaluation and bench reports)."""

from __future__ import annotations

from collections.abc import Sequence

MISSING = "—"


def fmt(value: object, digits: int | None = None) -> str:
    """A figure as a table shows it: None as a dash; a float with `digits` decimals and thousands separators,
    or without `digits` 1 decimal from 10 up and 3 below; an int with thousands separators; anything else as text."""
    if value is None:
        return MISSING
    if isinstance(value, float):
        if digits is not None:
            return f"{value:,.{digits}f}"
        return f"{value:.1f}" if abs(value) >= 10 else f"{value:.3f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    """A Markdown table, one line a row; cells that are not text go through `fmt`."""
    lines = [_markdown_row(header), _markdown_row(["---"] * len(header))]
    return lines + [_markdown_row([fmt(v) for v in row]) for row in rows]


def _markdown_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def text_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    """A plain-text table with aligned columns, for the terminal."""
    cells = [list(header)] + [[fmt(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
