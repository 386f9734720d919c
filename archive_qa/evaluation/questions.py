"""The evaluation question set: one JSON object a line (schema in eval/README.md), read and checked."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from archive_qa.evaluation.jsonl import read_rows
from qa.errors import DataError

DEFAULT_QUESTIONS = Path(__file__).resolve().parents[2] / "eval" / "questions.jsonl"
LOOKUP_CATEGORIES = ("paraphrase", "alias", "date", "multi", "follow-up")
FORM_CATEGORIES = ("list", "period", "change", "who")  # each asks for the answer form of its name (qa/answer/forms.py)
CATEGORIES = LOOKUP_CATEGORIES + FORM_CATEGORIES + ("unanswerable",)
SPLITS = ("dev", "test")  # test: held out — never looked at while fitting thresholds or rules
_KEYS = {"id", "question", "category", "answerable", "relevant", "answer_contains", "follows", "filters", "note"}
_KEYS |= {"split"}
_FILTER_KEYS = {"date_from", "date_to", "include_undated", "infer_dates", "from_person", "to_person", "person"}
_FILTER_KEYS |= {"infer_people"}
_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"})


class QuestionSetError(DataError):
    """A question set that cannot be used, named by file and line."""


@dataclass(frozen=True, slots=True)
class Question:
    """One evaluation question with its relevant records and the words its answer must contain."""

    id: str
    question: str
    category: str
    answerable: bool
    relevant: tuple[str, ...]
    answer_contains: tuple[str, ...]
    follows: str | None = None
    filters: dict | None = None
    split: str = "dev"

    def keyword_hits(self, text: str) -> list[bool]:
        """For each required phrase (alternatives separated by "|"), whether the text contains one of them."""
        folded = normalise(text)
        return [any(normalise(alt) in folded for alt in phrase.split("|")) for phrase in self.answer_contains]


def normalise(text: str) -> str:
    """Lower case, straight quotes and hyphens, single spaces: how answer text and keywords are compared."""
    return " ".join(text.translate(_QUOTES).casefold().split())


def load_questions(path: Path = DEFAULT_QUESTIONS) -> list[Question]:
    """Read and check a question set; raises QuestionSetError naming the first bad line."""
    questions: list[Question] = []
    seen: set[str] = set()
    for where, row in read_rows(path, QuestionSetError, "the question set"):
        q = _question(row, where)
        if q.id in seen:
            raise QuestionSetError(f"{where}: id {q.id!r} is used twice")
        if q.follows is not None and q.follows not in seen:
            raise QuestionSetError(f"{where}: follows {q.follows!r}, which is not an earlier question")
        seen.add(q.id)
        questions.append(q)
    if not questions:
        raise QuestionSetError(f"{path}: no questions")
    return questions


def _question(row: object, where: str) -> Question:
    """One line's question, checked: its fields, then whether they agree with each other."""
    if not isinstance(row, dict):
        raise QuestionSetError(f"{where}: each line must be a JSON object")
    _check_fields(row, where)
    relevant, contains, answerable = row.get("relevant", []), row.get("answer_contains", []), row.get("answerable")
    if answerable and not relevant:
        raise QuestionSetError(f"{where}: an answerable question needs at least one relevant record id")
    if not answerable and (relevant or contains):
        raise QuestionSetError(f"{where}: an unanswerable question has no relevant records or required words")
    return Question(
        id=row["id"],
        question=row["question"],
        category=row["category"],
        answerable=answerable,
        relevant=tuple(relevant),
        answer_contains=tuple(contains),
        follows=row.get("follows"),
        filters=row.get("filters"),
        split=row.get("split", "dev"),
    )


def _check_fields(row: dict, where: str) -> None:
    """Each field known and of its type (the schema in eval/README.md)."""
    unknown = set(row) - _KEYS
    if unknown:
        raise QuestionSetError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    for key in ("id", "question", "category"):
        if not isinstance(row.get(key), str) or not row[key].strip():
            raise QuestionSetError(f"{where}: field {key!r} must be non-empty text")
    if not re.fullmatch(r"[\w.-]+", row["id"]):
        raise QuestionSetError(f"{where}: id {row['id']!r} may hold only letters, digits, '.', '_' and '-'")
    for key in ("relevant", "answer_contains"):
        value = row.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise QuestionSetError(f"{where}: field {key!r} must be a list of non-empty strings")
    if not isinstance(row.get("answerable"), bool):
        raise QuestionSetError(f"{where}: field 'answerable' must be true or false")
    if row.get("split", "dev") not in SPLITS:
        raise QuestionSetError(f"{where}: field 'split' must be one of {', '.join(SPLITS)}")
    if row.get("follows") is not None and not isinstance(row["follows"], str):
        raise QuestionSetError(f"{where}: field 'follows' must be a question id")
    filters = row.get("filters")
    if filters is not None and (not isinstance(filters, dict) or set(filters) - _FILTER_KEYS):
        raise QuestionSetError(f"{where}: field 'filters' must be an object with keys among {sorted(_FILTER_KEYS)}")
