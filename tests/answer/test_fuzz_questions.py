"""Fuzzing questions: date phrases, follow-ups, filters and `Assistant.ask` arguments give an answer or
one `QuestionError` line, never another exception, in time linear in the question's length.

Runs on the model-free `hashing:64` index (tests/conftest.py); profiles and the linear-time check are described
in tests/fuzz_helpers.py.
"""

from __future__ import annotations

import dataclasses
import datetime
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fuzz_helpers import ODD_TEXT, assert_linear, examples, hang_guard, one_line
from hypothesis import given
from hypothesis import strategies as st

from archive_qa.cli import main
from qa.answer.assistant import Assistant, resolve_follow_up
from qa.answer.dates import DateRange, find_date_range, strip_dates
from qa.config import MODES
from qa.errors import ArchiveQAError, QuestionError
from qa.types import Answer, Filters

WORDS = [
    "in", "during", "of", "from", "on", "between", "and", "to", "until", "till", "-", "–", "before", "prior to",
    "up to", "after", "later than", "since", "onwards", "the", "1970s", "1940's", "1949", "1950", "1800", "2099",
    "0000", "9999", "May", "may", "Sept.", "September", "Jan", "march", "spring", "summer", "autumn", "winter",
    "31", "1", "29", "February", "30", "what", "about", "how", "same", "for", "also", "what of", "?", ",", ".",
    "Stalin", "Mao", "Kovalev", "PLA", "telegram", "report", "1949-1951", "1962-1963", "3000", "1",
    "Filippov", "wrote", "to", "sent", "by", "Zhou Enlai", "Khrushchev",
]


_NONCE = itertools.count()


def question_text(max_words: int = 30) -> st.SearchStrategy[str]:
    """A question: words and dates of the forms the assistant reads, odd characters, or random text."""
    pieces = st.one_of(st.sampled_from(WORDS), st.sampled_from(ODD_TEXT), st.text(max_size=6),
                       st.integers(0, 3000).map(str), st.sampled_from(["\ud800", "\udcff"]))
    return st.one_of(st.lists(pieces, max_size=max_words).map(" ".join), st.text(max_size=80))


def _valid_day(day: int) -> bool:
    try:
        datetime.date(day // 10000, day // 100 % 100, day % 100)
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------------------------------------- dates


@examples(100)
@given(question=question_text())
def test_a_date_range_is_read_or_none_is_found(question: str) -> None:
    with hang_guard():
        found = find_date_range(question)
        rest = strip_dates(question)
    assert isinstance(rest, str)
    if found is not None:
        assert isinstance(found, DateRange)
        for day in (found.start, found.end):
            assert day is None or _valid_day(day), found
        if found.start and found.end:
            assert found.start <= found.end, found
        one_line(found.describe())


@examples(5, 100)
@given(unit=question_text(6).filter(bool))
def test_reading_dates_is_linear_in_the_question(unit: str) -> None:
    """Resolved follow-ups grow with a conversation, so a question's length is not bounded by the 2,000 limit."""
    def make(n: int):
        text = " ".join([unit] * n) + f" nonce{next(_NONCE)}"  # a new text each time: find_date_range keeps a memo
        return lambda: (find_date_range(text), strip_dates(text))

    with hang_guard(60):
        assert_linear(make, 40)


@examples(5, 100)
@given(unit=st.sampled_from(WORDS + ["1949 ", "May 1949 ", "between 1949 and ", "  "]))
def test_a_long_question_has_no_backtracking(unit: str) -> None:
    text = unit * (200_000 // len(unit)) + f" nonce{next(_NONCE)}"  # new each time: find_date_range keeps a memo
    with hang_guard(20):
        find_date_range(text)
        strip_dates(text)


# ---------------------------------------------------------------------------------------------- follow-ups


@examples(100)
@given(question=question_text(), history=st.lists(question_text(), max_size=4))
def test_a_follow_up_is_read_against_any_history(question: str, history: list[str]) -> None:
    with hang_guard():
        resolved = resolve_follow_up(question, history)
        as_answers = resolve_follow_up(question, [Answer(h, h) for h in history])
    assert isinstance(resolved, str) and resolved == as_answers
    if not history:
        assert resolved == question


# ---------------------------------------------------------------------------------------------- filters

FILTER_FIELDS = {f.name for f in dataclasses.fields(Filters)}
DATES = ["1949", "1949-05", "1949-05-31", "May 1949", "May 31, 1949", "1949-13", "1949-02-30", "0000", "99999",
         "", " ", "1949-5", "circa 1949", "1e3", "\ud800", "February 29, 1900", "February 29, 2000"]


def filter_values() -> st.SearchStrategy:
    return st.one_of(st.none(), st.sampled_from(DATES), st.text(max_size=20), st.integers(), st.floats(),
                     st.booleans(), st.lists(st.integers(), max_size=2))


@st.composite
def filters(draw) -> dict:
    values = {"date_from": draw(filter_values()), "date_to": draw(filter_values()),
              "include_undated": draw(st.one_of(st.booleans(), st.none())),
              "infer_dates": draw(st.one_of(st.booleans(), st.none()))}
    names = st.one_of(st.none(), st.sampled_from(["Stalin", "Mao", "Filippov", "", "\ud800"]), st.text(max_size=10),
                      st.booleans(), st.integers())
    for name in sorted(FILTER_FIELDS - set(values)):  # people (named) and whether to read them in questions
        values[name] = draw(names if "person" in name else st.one_of(st.none(), st.booleans()))
    return values


@examples(100)
@given(values=filters())
def test_filters_are_made_or_refused_with_one_line(values: dict) -> None:
    try:
        made = Filters(**values)
    except QuestionError as exc:
        one_line(str(exc).encode("utf-8", "backslashreplace").decode())
        return
    for name in ("date_from", "date_to"):
        value = getattr(made, name)
        assert value is None or isinstance(value, str)


# ---------------------------------------------------------------------------------------------- ask


@pytest.fixture(scope="module")
def assistant(hashing_config, hashing_index, hashing_embedder):
    return Assistant(hashing_config, index=hashing_index, embedder=hashing_embedder)


def asked(assistant: Assistant, *args, **kwargs) -> Answer | None:
    """An answer (checked: printable as the command prints it), or None for a refusal in one clear line."""
    try:
        with hang_guard():
            answer = assistant.ask(*args, **kwargs)
    except QuestionError as exc:
        one_line(str(exc).encode("utf-8", "backslashreplace").decode())
        return None
    assert isinstance(answer, Answer)
    json.dumps(answer.to_dict(), ensure_ascii=False).encode("utf-8")
    answer.text.encode("utf-8")
    return answer


@examples(60)
@given(question=st.one_of(question_text(), st.text(min_size=1990, max_size=2010), st.none(), st.integers()),
       history=st.lists(question_text(10), max_size=3), values=st.one_of(st.none(), filters()),
       k=st.one_of(st.none(), st.integers(-3, 120), st.booleans(), st.floats(), st.sampled_from(["5", 10**9])),
       mode=st.one_of(st.none(), st.sampled_from([*MODES, "", "DENSE", "x"])))
def test_ask_with_any_arguments_answers_or_refuses_in_one_line(assistant, question, history, values, k, mode) -> None:
    try:
        made = Filters(**values) if values is not None else None
    except QuestionError:
        made = None
    answer = asked(assistant, question, history, made, k=k, mode=mode)
    if answer is not None and not answer.error and not answer.abstained:
        assert answer.sources and all(f"[{s.n}]" in answer.text for s in answer.sources)


@examples(15)
@given(turns=st.lists(question_text(8), min_size=2, max_size=6))
def test_a_conversation_of_follow_ups_stays_answerable(assistant, turns: list[str]) -> None:
    history: list[Answer] = []
    for turn in turns:
        answer = asked(assistant, "and " + turn, history)
        if answer is not None:
            history.append(answer)


# ---------------------------------------------------------------------------------------------- the command


@examples(25)
@given(question=question_text(), flags=st.lists(st.sampled_from([
    ["--json"], ["--k", "0"], ["--k", "3"], ["--k", "x"], ["--mode", "bm25"], ["--mode", "nope"], ["--from", "1949"],
    ["--from", "May 1949"], ["--to", "1949-13"], ["--to", "\udcff"], ["--include-undated"], ["--no-date-inference"],
]), max_size=3).map(lambda groups: [flag for group in groups for flag in group]))
def test_the_ask_command_prints_an_answer_or_one_line(hashing_config, capsys, question: str, flags: list[str]) -> None:
    where = ["--corpus", str(hashing_config.corpus), "--index", str(hashing_config.index_dir), "--model",
             hashing_config.model]
    try:
        with hang_guard():
            status = main(["ask", question, *where, *flags])
    except SystemExit as exc:  # argparse: a bad flag value, with its usage line
        status = exc.code
        assert status == 2
    except ArchiveQAError as exc:  # pragma: no cover - main() catches these; here it would be a bug
        raise AssertionError(f"escaped main(): {exc!r}") from None
    out, err = capsys.readouterr()
    out.encode("utf-8"), err.encode("utf-8")
    assert status in (0, 2), (status, err)
    if status == 2 and "--json" not in flags:  # one message line (after argparse's usage lines, for a bad flag)
        messages = [line for line in err.splitlines() if line.startswith("archive-qa")]
        assert len(messages) == 1 and messages[0] == err.splitlines()[-1], err
    if "--json" in flags and status == 0:
        json.loads(out)


# ---------------------------------------------------------------------------------------------- found by the fuzzer


def test_many_dates_in_one_question_are_read_in_linear_work() -> None:
    """`make fuzz` found: "1949 " * 40,000 took over 20 s in find_date_range (quadratic in the dates named)."""
    def make(n: int):
        text = "1949 " * n + f"nonce{next(_NONCE)}"  # a new text each time: find_date_range keeps a memo
        return lambda: find_date_range(text)

    assert_linear(make, 40)


@pytest.mark.parametrize("value", [True, 1949, ["Stalin"]])
def test_a_person_filter_that_is_not_text_is_refused_in_one_line(assistant, value) -> None:
    """`make fuzz` found: Filters(to_person=True) passed and ask raised AttributeError in Analyzer.canonical."""
    if "to_person" not in FILTER_FIELDS:
        pytest.skip("no people filters")
    with pytest.raises(QuestionError):
        assistant.ask("telegrams", filters=Filters(to_person=value))


def test_an_undecodable_byte_in_a_refused_question_is_printed_escaped(hashing_config) -> None:
    """Found after `make fuzz` found lone surrogates kept in answers: with PYTHONIOENCODING=utf-8 (strict standard
    output), `ask --json` of an overlong question holding a byte that is not UTF-8 ended in UnicodeEncodeError."""
    question = b"\xff" + b"a " * 1001
    where = ["--corpus", str(hashing_config.corpus), "--index", str(hashing_config.index_dir), "--model",
             hashing_config.model]
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-m", "archive_qa", "ask", question, *where, "--json"], env=env,
                          cwd=Path(__file__).resolve().parents[2], capture_output=True, timeout=120)
    assert done.returncode == 2 and b"Traceback" not in done.stderr, done.stderr
    answer = json.loads(done.stdout)
    assert answer["question"].startswith("\udcffa a") and answer["error"].startswith("The question is 2003")


def test_a_history_holding_a_lone_surrogate_gives_a_printable_answer(assistant) -> None:
    """`make fuzz` found: ask("1949", history=["\\ud800"]) kept the surrogate in the resolved question, so the answer
    could not be printed as JSON (and the ONNX tokenizer of the real model raises TypeError on it)."""
    answer = assistant.ask("1949", ["Stalin telegrams \ud800"])
    json.dumps(answer.to_dict(), ensure_ascii=False).encode("utf-8")
