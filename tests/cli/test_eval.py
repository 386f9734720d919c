"""The evaluation: the question set itself, `archive-qa eval` and its reports, calibration, and the CI gate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archive_qa.cli import main
from archive_qa.evaluation.calibrate import best_threshold, calibrate, write_thresholds
from archive_qa.evaluation.questions import (
    CATEGORIES,
    DEFAULT_QUESTIONS,
    LOOKUP_CATEGORIES,
    QuestionSetError,
    load_questions,
    normalise,
)
from archive_qa.evaluation.report import compare, failing, markdown, summary, write_report
from archive_qa.evaluation.runner import RANK_DEPTH, evaluate
from archive_qa.evaluation.tables import fmt, markdown_table, text_table

REPO = Path(__file__).resolve().parents[2]
SHIPPED_CORPUS = REPO / "corpus"

# ---------------------------------------------------------------------------------------------- the CI gate
# Hybrid mode on the shipped question set, measured 2026-11-29 (151 questions): look-up Recall@5 0.976, MRR@10
# 0.923, abstention accuracy 0.993; list and period document recall and precision 1.000; 5-fold abstention
# precision 0.970, recall 1.000 (dense 0.939 and 0.969, bm25 0.939 and 0.969: gated too, every mode).
# The gate sits a little under: about two more misses of each kind fail it.
GATE_DATE = "2026-11-29"
GATE_RECALL_AT_5 = 0.95
GATE_MRR_AT_10 = 0.9
GATE_ABSTENTION_ACCURACY = 0.93
GATE_LIST_RECALL = 0.95
GATE_LIST_PRECISION = 0.9
GATE_HELD_OUT_ABSTENTION = 0.9


@pytest.fixture(scope="module")
def hybrid_report(assistant):
    return evaluate(assistant, load_questions(), ["hybrid"])


def test_gate_hybrid_retrieval_and_abstention_on_the_shipped_question_set(hybrid_report):
    scores = hybrid_report["modes"]["hybrid"]
    detail = json.dumps(failing(hybrid_report, "hybrid"), indent=1)
    assert scores["retrieval"]["recall@5"] >= GATE_RECALL_AT_5, detail
    assert scores["retrieval"]["mrr@10"] >= GATE_MRR_AT_10, detail
    assert (scores["answers"]["abstention_accuracy"] or 0) >= GATE_ABSTENTION_ACCURACY, detail
    held = scores["held_out"]["cross_validated"]
    assert min(held["abstention_precision"], held["abstention_recall"]) >= GATE_HELD_OUT_ABSTENTION, held
    for kind in ("list", "period"):
        assert scores["kinds"][kind]["document_recall"] >= GATE_LIST_RECALL, (kind, detail)
        assert scores["kinds"][kind]["document_precision"] >= GATE_LIST_PRECISION, (kind, detail)


@pytest.mark.parametrize("mode", ["dense", "bm25"])
def test_gate_held_out_abstention_in_the_other_modes(assistant, mode):
    held = evaluate(assistant, load_questions(), [mode])["modes"][mode]["held_out"]["cross_validated"]
    assert min(held["abstention_precision"], held["abstention_recall"]) >= GATE_HELD_OUT_ABSTENTION, held


# ---------------------------------------------------------------------------------------------- the question set


@pytest.fixture(scope="module")
def shipped_by_id():
    from qa.corpus import load_corpus

    return {r.id: r for r in load_corpus([SHIPPED_CORPUS]).records}


def test_question_set_has_the_required_mix():
    questions = load_questions()
    assert len(questions) >= 40
    assert sum(not q.answerable for q in questions) >= 8
    counts = {c: sum(q.category == c for q in questions) for c in CATEGORIES}
    assert all(counts.values()), counts
    assert {q.category for q in questions} <= set(CATEGORIES)
    assert sum(len(q.relevant) >= 2 for q in questions) >= 4
    follow_ups = [q for q in questions if q.follows]
    assert len(follow_ups) >= 4
    by_id = {q.id: q for q in questions}
    assert all(by_id[q.follows].answerable for q in follow_ups)
    assert all(q.category == "unanswerable" for q in questions if not q.answerable)


def test_question_set_points_at_shipped_records_and_its_words_are_in_them(shipped_by_id):
    """Relevant ids are the parser's ids; every required phrase is in one of the relevant records."""
    for q in load_questions():
        assert set(q.relevant) <= set(shipped_by_id), q.id
        if not q.answerable:
            continue
        assert q.answer_contains, q.id
        text = normalise(
            " ".join(f"{r.title} {r.display_date} {r.summary}" for r in (shipped_by_id[i] for i in q.relevant))
        )
        for phrase in q.answer_contains:
            assert any(normalise(alt) in text for alt in phrase.split("|")), (q.id, phrase)


def test_keyword_hits_ignore_case_and_quote_style():
    q = load_questions()[0]
    q = type(q)("x", "?", "paraphrase", True, ("r",), ("Worker's Party", "a|tension", "absent"))
    assert q.keyword_hits("the Romanian WORKER’S  party feared Tension") == [True, True, False]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"id": "a", "question": "q?", "category": "alias", "answerable": true}', "answerable question needs"),
        ('{"id": "a", "question": "q?", "category": "alias", "relevant": ["r"]}', "'answerable' must be"),
        (
            '{"id": "a", "question": "q?", "category": "alias", "answerable": true, "relevant": ["r"], "follows": "b"}',
            "earlier",
        ),
        (
            '{"id": "a", "question": "q?", "category": "alias", "answerable": true, "relevant": ["r"], "x": 1}',
            "unknown field",
        ),
        (
            '{"id": "a", "question": "q?", "category": "x", "answerable": false, "answer_contains": ["w"]}',
            "unanswerable",
        ),
        ("[1]", "JSON object"),
        ('{"id": "a", "question": ', "not valid JSON"),
        ('{"id": "ok", "question": "q?", "category": "alias", "answerable": true, "relevant": ["r"]}', "used twice"),
    ],
)
def test_question_set_errors_name_the_line(tmp_path, line, message):
    path = tmp_path / "q.jsonl"
    first = '{"id": "ok", "question": "q?", "category": "alias", "answerable": true, "relevant": ["r"]}'
    path.write_text(first + "\n" + line + "\n")
    with pytest.raises(QuestionSetError, match=message) as exc:
        load_questions(path)
    assert f"{path}:2" in str(exc.value)


# ---------------------------------------------------------------------------------------------- reports and the command


def _fake_report(recall: float, problems: dict) -> dict:
    return {
        "kind": "questions",
        "created": "then",
        "modes": {
            "hybrid": {
                "retrieval": {"recall@1": recall, "recall@5": 1.0, "mrr@10": 0.9},
                "answers": {"abstention_recall": 0.9, "latency_p50_ms": 10.0},
                "problems": problems,
            }
        },
    }


def test_compare_reports_changes_and_regressions(tmp_path, capsys):
    old, new = _fake_report(0.9, {"a1": ["composition: x"]}), _fake_report(0.8, {"b2": ["retrieval: y"]})
    table, regressions = compare(old, new)
    assert "| hybrid | recall@1 | 0.900 | 0.800 | -0.100 ▼ |" in table
    assert regressions == ["hybrid recall@1: 0.900 → 0.800"]
    assert "newly failing ['b2']; now passing ['a1']" in table
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "report.json").write_text(json.dumps(old))
    (tmp_path / "new.json").write_text(json.dumps(new))
    status = main(
        ["eval", "--compare", str(tmp_path / "old"), str(tmp_path / "new.json"), "--out", str(tmp_path / "c")]
    )
    assert status == 1
    assert "1 regression(s)" in capsys.readouterr().out
    assert "recall@1" in (tmp_path / "c" / "compare.md").read_text()
    assert compare(old, old)[1] == []


def test_compare_refuses_a_file_that_is_not_a_report(tmp_path, capsys):
    (tmp_path / "x.json").write_text("[]")
    assert main(["eval", "--compare", str(tmp_path / "x.json"), str(tmp_path / "x.json")]) == 2
    assert "cannot read a report" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------- calibration


def test_threshold_is_the_midpoint_of_the_widest_separating_gap():
    threshold, score, gap = best_threshold([0.1, 0.2, 0.6, 0.7], [False, False, True, True])
    assert threshold == pytest.approx(0.4) and score == 1.0 and gap == pytest.approx(0.4)
    # overlapping classes: the best of the lesser of abstention precision (3/4 here) and recall (1)
    evidence = [0.1, 0.2, 0.3, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8, 0.9]
    answerable = [False, False, True, False, True, True, True, True, True, True]
    threshold, score, _ = best_threshold(evidence, answerable)
    assert threshold == pytest.approx(0.475) and score == pytest.approx(3 / 4)
    cal = calibrate(evidence, answerable)
    assert cal.loo_score <= cal.score


def test_one_unanswerable_question_among_answerable_ones_does_not_pull_the_threshold_over_them():
    """Balanced accuracy would decline the four answerable questions at 0.10-0.12 to catch the unanswerable one at
    0.13 (worth a fifth of the unanswerable class, against four of forty answerable); the lesser of precision and
    recall does not."""
    evidence = [0.0] * 4 + [0.13] + [0.10, 0.11, 0.11, 0.12] + [0.3 + i / 100 for i in range(36)]
    answerable = [False] * 5 + [True] * 40
    threshold, score, _ = best_threshold(evidence, answerable)
    assert 0.0 < threshold < 0.10 and score == pytest.approx(4 / 5)


def test_write_thresholds_keeps_the_file_format(tmp_path):
    path = tmp_path / "abstention.json"
    path.write_text(json.dumps({"about": "why", "thresholds": {"hybrid": 0.3, "dense": 0.3, "bm25": 0.3}}))
    write_thresholds({"dense": 0.41234567}, path)
    assert json.loads(path.read_text()) == {"about": "why", "thresholds": {"hybrid": 0.3, "dense": 0.4123, "bm25": 0.3}}


def test_shipped_thresholds_file_has_its_format():
    from qa.answer.assistant import THRESHOLDS_FILE
    from qa.config import MODES

    data = json.loads(THRESHOLDS_FILE.read_text())
    assert set(data) == {"about", "thresholds"} and set(data["thresholds"]) == set(MODES)
    assert all(0 < v < 1 for v in data["thresholds"].values())


def test_table_cells_and_tables():
    assert [fmt(v) for v in (None, 0.5, 12.345, 3, 12345, True, "x")] == [
        "—",
        "0.500",
        "12.3",
        "3",
        "12,345",
        "True",
        "x",
    ]
    assert [fmt(1234.5678, 2), fmt(3.0, 0), fmt(7, 3)] == ["1,234.57", "3", "7"]
    assert markdown_table(["a", "b"], [["x", 0.25], ["y", None]]) == [
        "| a | b |",
        "| --- | --- |",
        "| x | 0.250 |",
        "| y | — |",
    ]
    assert text_table(["mode", "recall@5"], [["hybrid", 0.99]]) == ["mode    recall@5", "hybrid  0.990"]


# ---------------------------------------------------------------------------------------------- the runner, model-free


class CountingAssistant:
    """An assistant that counts the questions it is asked (the runner asks each question once per mode)."""

    def __init__(self, inner) -> None:
        self.inner, self.config, self.index, self.thresholds = inner, inner.config, inner.index, inner.thresholds
        self.asked: list[tuple[str, str]] = []

    def ask(self, question, history=(), filters=None, *, k=None, mode=None):
        self.asked.append((question, mode))
        return self.inner.ask(question, history, filters, k=k, mode=mode)


@pytest.fixture(scope="module")
def model_free_report(hashing_config, hashing_index, hashing_embedder):
    """The shipped question set run through an assistant over the model-free index, in two modes."""
    from qa.answer.assistant import Assistant

    assistant = CountingAssistant(Assistant(hashing_config, index=hashing_index, embedder=hashing_embedder))
    report = evaluate(assistant, load_questions(), ["bm25", "dense"])
    return {"created": "now", "questions": str(DEFAULT_QUESTIONS), **report}, assistant.asked


def test_the_runner_asks_each_question_once_per_mode(model_free_report):
    report, asked = model_free_report
    questions = load_questions()
    assert len(asked) == 1 + 2 * len(questions)  # a warm-up question, then each question once in each mode
    assert [q for q, mode in asked[1:] if mode == "bm25"] == [q.question for q in questions]
    assert report["question_count"] == len(questions) and report["config"]["model"] == "hashing:64"


def test_the_runner_scores_the_answers_own_ranking(model_free_report):
    report, _ = model_free_report
    for mode in ("bm25", "dense"):
        scores = report["modes"][mode]
        outcomes = report["outcomes"][mode]
        assert len(outcomes) == report["question_count"]
        assert all(len(o["ranking"]) <= RANK_DEPTH for o in outcomes)
        answered = [o for o in outcomes if not o["abstained"]]
        lookups = [o for o in answered if o["form"] == "lookup"]
        assert all(set(o["cited"]) <= set(o["ranking"]) for o in lookups)  # a look-up cites from its ranking
        lookup_questions = sum(o["answerable"] and o["category"] in LOOKUP_CATEGORIES for o in outcomes)
        assert scores["retrieval"]["queries"] == lookup_questions
        assert 0 <= scores["retrieval"]["recall@5"] <= scores["retrieval"]["recall@10"] <= 1
        categories = scores["categories"]
        assert set(categories) == set(CATEGORIES) and sum(c["questions"] for c in categories.values()) == len(outcomes)
        assert all(p for p in scores["problems"].values())
    # BM25 does not depend on the embedder: words find the records the questions were written from
    assert report["modes"]["bm25"]["retrieval"]["recall@10"] >= 0.9


def test_report_files_summary_and_markdown(model_free_report, tmp_path):
    report, _ = model_free_report
    paths = write_report(report, tmp_path / "r")
    assert [p.name for p in paths] == ["report.json", "report.md", "recall_at_k.png"]
    assert paths[2].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = paths[1].read_text()
    assert "![Recall@k per retrieval mode](recall_at_k.png)" in text
    assert "| bm25 |" in text and "## By category" in text and "## Failing questions" in text
    assert (
        json.loads(paths[0].read_text())["modes"]["bm25"]["retrieval"]["queries"]
        == report["modes"]["bm25"]["retrieval"]["queries"]
    )
    assert "## Answer forms" in text and "## Held-out abstention" in text and "5-fold" in summary(report)
    assert "recall@5" in summary(report) and "bm25: " in summary(report)
    assert markdown(report, None).count("![") == 0


# ---------------------------------------------------------------------------------------------- the command, model-free


def _model_free_args(config) -> list[str]:
    return ["--corpus", str(config.corpus), "--index", str(config.index_dir), "--model", config.model]


def test_eval_command_writes_a_report(hashing_config, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["eval", *_model_free_args(hashing_config), "--mode", "bm25", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "recall@5" in printed and "abstention_precision" in printed and f"wrote {out}" in printed
    report = json.loads((out / "report.json").read_text())
    assert list(report["modes"]) == ["bm25"] and report["question_count"] == len(load_questions())
    assert (out / "recall_at_k.png").is_file() and (out / "report.md").is_file()


def test_eval_command_errors_end_in_one_line(hashing_config, tmp_path, capsys):
    bad = tmp_path / "q.jsonl"
    bad.write_text("not json\n")
    assert main(["eval", *_model_free_args(hashing_config), "--questions", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{bad}:1: not valid JSON" in err


def test_calibrate_command_writes_the_thresholds_file(hashing_config, tmp_path, monkeypatch, capsys):
    from qa.answer.assistant import THRESHOLDS_FILE

    copy = tmp_path / "abstention.json"
    copy.write_text(THRESHOLDS_FILE.read_text())
    monkeypatch.setattr("qa.answer.assistant.THRESHOLDS_FILE", copy)
    args = ["eval", *_model_free_args(hashing_config), "--calibrate", "--mode", "bm25"]
    assert main([*args, "--dry-run"]) == 0
    assert copy.read_text() == THRESHOLDS_FILE.read_text()
    assert "dry run" in capsys.readouterr().out
    assert main(args) == 0
    written = json.loads(copy.read_text())
    shipped = json.loads(THRESHOLDS_FILE.read_text())
    assert written["about"] == shipped["about"]
    assert written["thresholds"]["hybrid"] == shipped["thresholds"]["hybrid"]
    assert 0 < written["thresholds"]["bm25"] < 1
    assert "bm25 with the new threshold" in capsys.readouterr().out


# ---------------------------------------------------------------------------------------------- answer forms, held out


def test_question_set_holds_the_answer_forms_and_a_held_out_split():
    from archive_qa.evaluation.questions import FORM_CATEGORIES

    questions = load_questions()
    assert sum(q.category in FORM_CATEGORIES for q in questions) >= 40
    assert all(sum(q.category == kind for q in questions) >= 4 for kind in FORM_CATEGORIES)
    test = [q for q in questions if q.split == "test"]
    assert len(test) >= 30 and sum(not q.answerable for q in test) >= 8


def test_a_split_must_be_dev_or_test(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text(
        '{"id": "a", "question": "q?", "category": "list", "answerable": true, "relevant": ["r"], "split": "x"}\n'
    )
    with pytest.raises(QuestionSetError, match="'split' must be one of dev, test"):
        load_questions(path)


def _outcome(qid, category, cited, *, form=None, abstained=False, answerable=True, evidence=0.5, decided="evidence"):
    from archive_qa.evaluation.runner import Outcome

    return Outcome(
        qid,
        category,
        answerable,
        "q",
        [],
        abstained,
        evidence,
        0.3,
        cited,
        "text",
        1.0,
        form=form or category,
        decided_by=decided,
    )


def test_kind_scores_are_what_the_answers_list():
    from archive_qa.evaluation.questions import Question
    from archive_qa.evaluation.runner import kind_scores

    questions = {
        "l1": Question("l1", "q", "list", True, ("a", "b"), ()),
        "l2": Question("l2", "q", "list", True, ("c",), ()),
    }
    outcomes = [_outcome("l1", "list", ["a", "b", "x"]), _outcome("l2", "list", ["c"], form="lookup")]
    row = kind_scores(outcomes, questions)
    assert row["document_recall"] == 1.0 and row["document_precision"] == pytest.approx((2 / 3 + 1) / 2)
    assert row["form_accuracy"] == 0.5 and row["questions"] == 2
    change = _outcome("c1", "change", ["a"])
    change.relevant_years, change.cited_years = ["1949", "1963"], ["1949"]
    assert kind_scores([change], {"c1": Question("c1", "q", "change", True, ("a",), ())})["period_recall"] == 0.5


def test_cross_validation_fits_each_fold_on_the_others_and_keeps_rule_decisions():
    from archive_qa.evaluation.heldout import cross_validate, fold_of

    outcomes = [_outcome(f"a{i}", "paraphrase", [], evidence=0.4 + i / 100) for i in range(10)]
    outcomes += [_outcome(f"u{i}", "unanswerable", [], answerable=False, evidence=0.1 + i / 100) for i in range(5)]
    outcomes += [_outcome("n", "unanswerable", [], answerable=False, abstained=True, evidence=0.9, decided="names")]
    held = cross_validate(outcomes)
    assert held["abstention_precision"] == 1.0 and held["abstention_recall"] == 1.0
    assert len(held["thresholds"]) == 5 and all(0.1 < t < 0.4 for t in held["thresholds"])
    assert [fold_of("a1")] * 2 == [fold_of("a1"), fold_of("a1")] and 0 <= fold_of("u3") < 5
