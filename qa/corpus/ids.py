"""Settling record ids: a document listed twice is read once, two different documents never share an id."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from qa.corpus.raw import Problem, Sink
from qa.records import Record, stable_id


def settle_ids(candidates: list[Record], sink: Sink) -> list[Record]:
    """Give every record its final id; read a document listed twice once, with a warning.

    Records are grouped by explicit id (or URL), or by collection, title and date; each group is
    settled as a whole, so the ids do not depend on the order in which the files were read. Time
    is linear in the number of records, however many share a title and date.
    """
    # A record whose id no other record has is alone in its group, whatever its group: only the ids that
    # records share need to be told apart as given or hashed.
    shared = Counter(rec.id for rec in candidates)
    if len(shared) == len(candidates):  # every record alone in its group keeps its id (the common case, quickly)
        return list(candidates)
    groups: dict[str, list[int]] = {}
    for i, rec in enumerate(candidates):
        rid = rec.id
        hashed = shared[rid] > 1 and rid == stable_id(rec.collection, rec.title, rec.date)
        groups.setdefault(f"hash\x1f{rid}" if hashed else f"id\x1f{rid}", []).append(i)
    kept: dict[int, Record] = {}
    for key, members in groups.items():
        if len(members) == 1:  # a record alone in its group keeps its id (the common case, quickly)
            kept[members[0]] = candidates[members[0]]
            continue
        settle = _settle_explicit if key.startswith("id\x1f") else _settle_hashed
        kept.update(settle({i: candidates[i] for i in members}, sink))
    return [kept[i] for i in sorted(kept)]


def _same_document(a: Record, b: Record) -> bool:
    return (
        _fold(a.title) == _fold(b.title)
        and a.date == b.date
        and (not a.summary or not b.summary or a.summary == b.summary)
    )


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def _merge(members: dict[int, Record], rid: str, sink: Sink) -> dict[int, Record]:
    """One document listed one or more times: keep the fullest (its page, else a listing with a summary)."""
    keep = max(members, key=lambda i: (bool(members[i].full_text), bool(members[i].summary), -i))
    for i, rec in members.items():
        if i != keep:
            sink.warnings.append(
                Problem(rec.source, f"same document as {members[keep].source} (listed twice): read once")
            )
    record = members[keep]
    return {keep: record if record.id == rid else replace(record, id=rid)}


def _settle_explicit(members: dict[int, Record], sink: Sink) -> dict[int, Record]:
    """Records with the same given id or URL: one document listed again, or an error for a different one."""
    first = next(iter(members.values()))
    same = {i: r for i, r in members.items() if _same_document(r, first)}
    for rec in members.values():
        if not _same_document(rec, first):
            sink.errors.append(
                Problem(rec.source, f"id {rec.id!r} is already used by a different record at {first.source}")
            )
    return _merge(same, first.id, sink)


def _settle_hashed(members: dict[int, Record], sink: Sink) -> dict[int, Record]:
    """Records with the same collection, title and date: one document, or one per distinct summary."""
    first = next(iter(members.values()))
    by_summary: dict[str, dict[int, Record]] = {}
    for i, rec in members.items():
        by_summary.setdefault(rec.summary, {})[i] = rec
    if len(by_summary.keys() - {""}) <= 1:
        return _merge(members, stable_id(first.collection, first.title, first.date), sink)
    kept: dict[int, Record] = {}
    for summary, alike in by_summary.items():
        doc = _merge(alike, stable_id(first.collection, first.title, first.date, summary), sink)
        source = next(iter(doc.values())).source
        if source != first.source:
            message = f"same title and date as {first.source} but a different summary: read as a different document"
            sink.warnings.append(Problem(source, message))
        kept.update(doc)
    return kept
