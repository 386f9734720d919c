"""Question sets in a historian's shape: reading them, titles as expected records, `archive-qa eval --questions`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from archive_qa.cli import main
from archive_qa.evaluation.historian import (
    HistorianOutcome,
    capped_recall,
    expected_ids,
    is_historian_set,
    kind_row,
    load_historian,
    titles_index,
)
from archive_qa.evaluation.questions import DEFAULT_QUESTIONS, QuestionSetError

# The shared folder beside the repository (../shared), or where $ARCHIVE_QA_SHARED says (a worktree elsewhere).
SHARED = Path(os.environ.get("ARCHIVE_QA_SHARED", Path(__file__).resolve().parents[3] / "shared"))
SHARED_DEV = SHARED / "questions" / "historian_dev.jsonl"


@pytest.fixture(scope="module")
def records(hashing_index):
    """The shipped records (from the model-free index)."""
    return list(hashing_index.records)


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _row(**fields) -> dict:
    return {"id": "q1", "question": "who wrote it?", "kind": "lookup", "should_decline": False, **fields}


def test_a_historian_set_is_read_with_its_history_titles_and_ids(tmp_path):
    path = _write(
        tmp_path / "dev.jsonl",
        [
            _row(expected_titles=["Report, Kovalev to Stalin"], expected_answer="Kovalev."),
            _row(id="q2", kind="followup", history=["first?", "second?"], expected_ids=["abc"]),
            _row(id="q3", kind="out_of_scope", should_decline=True),
        ],
    )
    assert is_historian_set(path) and not is_historian_set(DEFAULT_QUESTIONS)
    first, follow, decline = load_historian(path)
    assert first.expected_titles == ("Report, Kovalev to Stalin",) and first.expected_answer == "Kovalev."
    assert follow.history == ("first?", "second?") and follow.expected_ids == ("abc",) and follow.kind == "followup"
    assert decline.should_decline and not decline.expected_titles and decline.history == ()


@pytest.mark.parametrize(
    "row, message",
    [
        (_row(should_decline="no"), "field 'should_decline' must be true or false"),
        (_row(history="earlier"), "field 'history' must be a list of non-empty strings"),
        (_row(expected_titles=[""]), "field 'expected_titles' must be a list"),
        (_row(should_decline=True, expected_titles=["A"]), "a question to decline expects no records"),
        (_row(source="x"), "unknown field(s) source"),
        (_row(kind=""), "field 'kind' must be non-empty text"),
    ],
)
def test_a_bad_line_is_named(tmp_path, row, message):
    path = _write(tmp_path / "dev.jsonl", [_row(id="ok"), row])
    with pytest.raises(QuestionSetError) as caught:
        load_historian(path)
    assert str(caught.value).startswith(f"{path}:2: ") and message in str(caught.value)


def test_a_title_names_every_record_that_bears_it_whatever_its_quotes_and_case(records):
    by_title = titles_index(records)
    romanian = next(r for r in records if r.title.startswith("Transcript of Meeting"))
    typed = romanian.title.replace("’", "'").upper()
    q = load_historian_row(expected_titles=[typed, "No Such Title"], expected_ids=["x1"])
    ids, missing = expected_ids(q, by_title)
    assert ids == ["x1", romanian.id] and missing == ["No Such Title"]


def load_historian_row(**fields):
    from archive_qa.evaluation.historian import HistorianQuestion

    return HistorianQuestion("q", "?", "lookup", False, **{k: tuple(v) for k, v in fields.items()})


def test_capped_recall_counts_out_of_what_the_top_k_can_hold():
    ranking = ["a", "b", "c", "d", "e"]
    assert capped_recall(ranking, ["a", "x"], 3) == 0.5
    assert capped_recall(ranking, ["a", "b", "c", "d", "e", "f", "g"], 3) == 1.0  # 3 of 7, all the top 3 holds
    assert capped_recall(ranking, ["e"], 3) == 0.0 and capped_recall(ranking, ["e"], 10) == 1.0


def test_kind_row_separates_declines_from_wrong_declines():
    outcomes = [
        HistorianOutcome("1", "k", False, ["a"], ["a", "b"], False, 1.0),
        HistorianOutcome("2", "k", False, ["c"], ["a", "b", "x", "c"], True, 1.0),
        HistorianOutcome("3", "k", True, [], ["a"], True, 1.0),
        HistorianOutcome("4", "k", True, [], ["a"], False, 1.0),
    ]
    row = kind_row(outcomes)
    assert row["questions"] == 4 and row["with_records"] == 2
    assert row["in_top3"] == 0.5 and row["in_top10"] == 1.0 and row["all_in_top10"] == 1.0
    assert row["declined"] == "1/2" and row["wrongly_declined"] == "1/2"


def test_eval_command_reads_a_historian_set_and_reports_per_kind(hashing_config, records, tmp_path, capsys):
    romanian = next(r for r in records if r.title.startswith("Transcript of Meeting"))
    path = _write(
        tmp_path / "dev.jsonl",
        [
            _row(question="why were the romanians worried about publishing declarations?",
                 expected_titles=[romanian.title]),
            _row(id="q2", kind="followup", history=["what did the romanian party discuss in 1963?"],
                 question="and what were they concerned about?", expected_ids=[romanian.id]),
            _row(id="q3", kind="out_of_scope", question="Who won the Zanzibar regatta of 1931?", should_decline=True),
        ],
    )  # fmt: skip
    out = tmp_path / "out"
    args = ["--corpus", str(hashing_config.corpus), "--index", str(hashing_config.index_dir)]
    assert main(["eval", *args, "--model", hashing_config.model, "--mode", "bm25", "--questions", str(path),
                 "--out", str(out)]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "in_top3" in printed and "out_of_scope" in printed and "followup" in printed
    report = json.loads((out / "report.json").read_text())
    kinds = report["modes"]["bm25"]["kinds"]
    assert kinds["lookup"]["in_top3"] == 1.0 and kinds["followup"]["in_top3"] == 1.0
    assert kinds["out_of_scope"]["declined"] == "1/1" and report["missing_titles"] == []
    assert [o["id"] for o in report["outcomes"]["bm25"]] == ["q1", "q2", "q3"]


@pytest.mark.skipif(not SHARED_DEV.is_file(), reason=f"the shared development questions are absent ({SHARED_DEV})")
def test_the_shared_development_questions_load_and_name_records(records):
    questions = load_historian(SHARED_DEV)
    assert len(questions) >= 40 and any(q.history for q in questions) and any(q.should_decline for q in questions)
    by_title = titles_index(records)
    assert all(expected_ids(q, by_title)[1] == [] for q in questions)


def test_right_and_confident_wrong_follow_the_cited_documents():
    def outcome(cited, step="answer", expected=("a", "b"), decline=False):
        return HistorianOutcome("q", "k", decline, list(expected), [], step == "decline", 0.0, list(cited), step)

    assert outcome(["a", "b", "x"]).right and not outcome(["a", "b", "x"]).confident_wrong
    assert not outcome(["x", "a", "b"]).right and outcome(["x", "a", "b"]).confident_wrong
    assert not outcome(["x", "a", "b"], "closest").confident_wrong  # shown as the closest: no confident claim
    assert not outcome(["a"]).right  # every expected document cited
    assert outcome([], "decline", (), True).right and outcome(["x"], "closest", (), True).right
    assert not outcome(["x"], "answer", (), True).right and outcome(["x"], "answer", (), True).confident_wrong
    assert outcome([], "answer", ()).right and not outcome(["x"], "answer", ()).right  # "No document mentions X."


def test_calibrate_on_a_historian_set_reports_the_threshold_cross_validated(hashing_config, records, tmp_path, capsys):
    rows = [_row(id=f"q{i}", question=f"what did kovalev report about {topic}?", expected_titles=[title])
            for i, (topic, title) in enumerate([("shanghai", records[4].title), ("wang ming", records[5].title)])]
    rows += [_row(id=f"o{i}", kind="out_of_scope", question=q, should_decline=True)
             for i, q in enumerate(["Who won the Zanzibar regatta of 1931?", "what is the price of tea in Lima?"])]
    path = _write(tmp_path / "dev.jsonl", rows + [dict(r, id=r["id"] + "b") for r in rows])  # fmt: skip
    args = ["--corpus", str(hashing_config.corpus), "--index", str(hashing_config.index_dir)]
    assert main(["eval", *args, "--model", hashing_config.model, "--mode", "bm25", "--questions", str(path),
                 "--calibrate"]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "bm25: shipped threshold" in printed and "5-fold held-out" in printed and "confident wrong" in printed
