"""The historian's answer forms and the three steps of confidence, on the shipped corpus (model-free index)."""

from __future__ import annotations

import re

import pytest

from qa.answer.assistant import Assistant
from qa.answer.forms import comparison_sides, excluded_date, read_question
from qa.types import Filters


@pytest.fixture(scope="module")
def helper(hashing_config, hashing_index, hashing_embedder):
    return Assistant(hashing_config, index=hashing_index, embedder=hashing_embedder)


def titles(answer) -> list[str]:
    return [s.record.title for s in answer.sources]


@pytest.mark.parametrize(
    ("question", "form"),
    [
        ("Did Stalin meet the CCP delegation?", "yesno"),
        ("Was Zhou Enlai among the leaders Kovalev met?", "yesno"),
        ("What is this collection about?", "overview"),
        ("sumarise the 1949 documents", "overview"),
        ("Give me a quick rundown of everything", "overview"),
        ("Compare the 1963 Romanian meeting and the 1977 Sofia meeting", "comparison"),
        ("How do Kovalev's telegrams compare with Stalin's cable?", "comparison"),
        ("What is the undated document about?", "undated"),
        ("Are there undated documents?", "list"),
        ("Which documents are undated?", "list"),
        ("Is there a document about the loan?", "list"),
        ("What did Stalin discuss with the CCP delegation?", "lookup"),
    ],
)
def test_the_form_is_read_from_the_wording(hashing_index, question, form):
    assert read_question(question, hashing_index.analyzer, hashing_index.people).form == form


def test_a_comparison_has_two_sides_and_a_date_can_be_left_out():
    assert comparison_sides("Compare the 1963 meeting with the Sofia note") == ("the 1963 meeting", "the Sofia note")
    assert comparison_sides("How do Mikoyan's talks compare with Stalin's meeting?") == (
        "How do Mikoyan's talks",
        "Stalin's meeting",
    )
    assert comparison_sides("Compare the documents") is None
    assert excluded_date("everything that isn't from 1949") and excluded_date("documents not in 1949")
    assert not excluded_date("summarise the 1949 documents") and not excluded_date("nothing dated")


def test_a_comparison_cites_each_side_then_says_what_they_share_and_what_differs(helper):
    answer = helper.ask("Compare the 1963 Romanian meeting and the 1977 Sofia conference", mode="bm25")
    assert answer.form == "comparison" and [s.record.date[:4] for s in answer.sources[:2]] == ["1963", "1977"]
    assert answer.closing and answer.text.endswith(answer.closing)
    assert re.search(r"the first alone: .+ \[1\]", answer.closing) and "the second alone" in answer.closing


def test_the_overview_counts_by_year_kind_and_correspondent_and_cites_every_document(helper, hashing_index):
    answer = helper.ask("What is this collection about?")
    assert answer.form == "overview" and not answer.abstained and len(answer.sources) == hashing_index.count
    assert answer.lead.startswith("Ten documents") and "By year: seven from 1949, one from 1963, one from 1977" in (
        answer.text
    )
    assert "By kind:" in answer.text and "Kovalev five" in answer.text


def test_an_overview_leaves_out_the_year_it_is_told_to(helper):
    answer = helper.ask("Give me an overview of everything that isn't from 1949")
    assert answer.applied_filter is None
    assert sorted(s.record.date or "" for s in answer.sources) == ["", "1963-07-04", "1977-03-02"]


def test_the_undated_answer_gives_closest_dated_documents_as_evidence_not_a_date(helper):
    answer = helper.ask("What is the undated document about?")
    assert answer.form == "undated" and answer.sources[0].record.date is None
    assert all(s.record.date for s in answer.sources[1:]) and len(answer.sources) == 3
    assert "closest to it in content (evidence of its time, not its date):" in answer.text


def test_yes_only_when_a_cited_sentence_holds_what_is_asked(helper):
    yes = helper.ask("Did Stalin discuss the Soviet loan with the CCP delegation?", mode="bm25")
    assert yes.step == "answer" and yes.text.startswith("Yes:")
    assert "Memorandum of Conversation between Stalin and CCP Delegation" in titles(yes)[:1]
    unsure = helper.ask("Did Stalin ever meet the Chinese communists face to face?", mode="bm25")
    assert not unsure.text.startswith("Yes") and unsure.step in ("closest", "decline")


def test_words_the_collection_never_uses_give_the_closest_documents_without_a_lead(helper):
    answer = helper.ask("what kind of body were the chinese setting up to run the economy?", mode="bm25")
    assert answer.step == "closest" and answer.text.startswith("No document says this directly; the closest are:")
    assert answer.sources and not re.match(r"(One|Two|Three|Four)\b", answer.text)


def test_a_name_never_mentioned_beside_strong_evidence_is_said_to_be_missing(helper):
    answer = helper.ask("What did Kovalev report about the Soviet loan to Vietnam?", mode="bm25")
    opening = "The collection never mentions Vietnam; no document says this directly"
    assert answer.step == "closest" and answer.text.startswith(opening)


def test_a_date_without_documents_is_declined_saying_so(helper):
    answer = helper.ask("What did Stalin tell Mao about the treaty in 1954?")
    assert answer.step == "decline" and answer.abstained and not answer.sources
    assert answer.text.startswith("The collection has no document from 1954.")


def test_the_questions_date_replaces_the_filters_and_one_line_says_so(helper):
    answer = helper.ask("What happened in 1949?", filters=Filters("1963", "1977"))
    assert answer.applied_filter.source == "question" and answer.sources
    assert all(s.record.date.startswith("1949") for s in answer.sources)
    assert answer.override == "The question's date (from 1949) replace the filters' for this question."
    plain = helper.ask("What happened?", filters=Filters("1963", "1977"))
    assert plain.applied_filter.source == "filters" and not plain.override


def test_the_questions_people_replace_the_filters(helper):
    answer = helper.ask("Which documents did Kovalev write?", filters=Filters(from_person="Stalin"))
    assert answer.people_filter.source == "question" and answer.override
    assert answer.sources and all("Kovalev" in s.record.title for s in answer.sources)


def test_a_list_does_not_undercount_on_a_generic_kind_word(helper):
    answer = helper.ask("How many reports did Kovalev himself send Stalin?", mode="bm25")
    assert len(answer.sources) == 4 and answer.lead.startswith("Four documents")
    narrowed = helper.ask("Which ciphered telegrams did Kovalev send?", mode="bm25")
    kinds = [("Telegram" in s.record.title or "Cable" in s.record.title) for s in narrowed.sources]
    assert kinds and all(kinds) and len(kinds) < 4  # a telegram is a cable in the alias table; a report is neither


def test_a_change_over_time_closes_with_what_recurs_and_what_is_new(helper):
    answer = helper.ask("How did the discussion of the Soviet loan change over 1949?", mode="bm25")
    assert answer.form == "change" and answer.closing.startswith("Across them: ")
    assert re.search(r"\w+ recurs (\[\d+\]){2,}", answer.closing)


def test_a_misspelt_word_is_read_as_the_collection_writes_it_but_not_another_word(hashing_index):
    assert hashing_index.spelled("recieving") == hashing_index.tokens("receiving")[0]
    assert hashing_index.spelled("telegarm") == hashing_index.tokens("telegram")[0]
    assert hashing_index.spelled("advise") is None  # another word, not a misspelling of "advice"
    assert hashing_index.spelled("proceed") is None and hashing_index.spelled("Korea") is None


def test_two_digit_years_and_named_days():
    from qa.answer.dates import expand_years, find_date_range, named_day

    assert find_date_range("in the summer of '49").start == 19490601
    assert expand_years("feb 49") == "feb 1949" and expand_years("in May 12 people") == "in May 12 people"
    assert named_day("reported on 17 may 1949") == 19490517 and named_day("in May 1949") is None


def test_a_follow_up_that_refers_back_asks_within_the_previous_answers_documents(helper):
    first = helper.ask("What did the Romanian party leadership discuss in July 1963?")
    follow = helper.ask("What were they worried about?", [first])
    assert {s.record.id for s in follow.sources} <= {s.record.id for s in first.sources} and follow.sources


def test_a_yes_no_about_words_the_collection_never_uses_says_no_document_mentions_them(helper):
    answer = helper.ask("Does Khrushchev come up anywhere in the collection?", mode="bm25")
    assert answer.text == "No document in the collection mentions Khrushchev." and not answer.sources
    assert not answer.abstained and answer.step == "answer"


def test_quoted_sentences_start_with_a_capital_and_bring_the_sentence_they_lean_on(helper):
    answer = helper.ask("What did Stalin say about the PLA forces?", mode="bm25")
    texts = [s.text for s in answer.sentences if s.text]
    assert texts and all(t[0].isupper() for t in texts)
    cable = next(s for s in answer.sources if s.record.title.startswith("Cable, Stalin to Mao"))
    assert cable.quoted[0].startswith("Stalin gives to Mao") and cable.quoted[1].startswith("Stalin also discusses")


def test_a_list_quotes_the_sentence_that_says_more_than_the_title(helper):
    answer = helper.ask("What happened in May 1949?", mode="bm25")
    report = next(s for s in answer.sources if s.record.title.startswith("Cable, Kovalev to Stalin, Report"))
    assert report.quoted[0].startswith("the discussion concerned")


def test_a_negative_is_said_once(helper):
    first = helper.ask("What happened in 1949?")
    answer = helper.ask("And in 1950?", [first])
    assert answer.text.startswith("The collection has no document from 1950") and answer.notice is None


@pytest.mark.parametrize(
    ("question", "says"),
    [
        ("Did Mao ever write to Stalin?", "No document in the collection is written by Mao Zedong, to Stalin."),
        ("Did Khrushchev ever write to Mao?", "No document in the collection mentions Khrushchev."),
    ],
)
def test_a_yes_no_the_collections_people_and_words_answer_no(helper, question, says):
    answer = helper.ask(question, mode="bm25")
    assert answer.text == says and not answer.sources and answer.step == "answer"


def test_a_yes_no_about_who_wrote_to_whom_is_yes_with_their_documents(helper):
    answer = helper.ask("Did Kovalev write to Stalin?", mode="bm25")
    assert answer.text.startswith("Yes:") and all("Kovalev" in s.record.title for s in answer.sources)


def test_and_followed_by_a_question_of_its_own_is_not_spliced_into_the_previous_one():
    from qa.answer.assistant import resolve_follow_up

    previous = ["Who were Katushev and Ponomarev?"]
    question = "And what did they say about the chairman's legacy?"
    assert resolve_follow_up(question, previous) == question
    kovalev = ["What did Kovalev tell Stalin about Wang Ming?"]
    assert resolve_follow_up("And about Shanghai?", kovalev) != "And about Shanghai?"
