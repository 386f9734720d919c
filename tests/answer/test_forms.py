"""Reading a question (qa/answer/forms.py) and continuing a conversation: model-free, on the shipped titles' people.

The questions here are written in other words than the eval set's and the summaries' ("describe", "originated",
"concerned", "port city"), so that the rules are tested, not the wording they were written against.
"""

from __future__ import annotations

import pytest

from qa.answer.assistant import resolve_follow_up
from qa.answer.forms import read_question


def _read(index, question):
    return read_question(question, index.analyzer, index.people)


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("Which documents describe the Chinese fleet?", ["chines", "fleet"]),
        ("Which reports originated in Sofia?", ["sofia"]),
        ("Are there records that reference Outer Mongolia?", ["outer", "mongolia"]),
        ("Which papers did the Romanians produce?", ["romanian", "produc"]),  # past an auxiliary: a name, kept
        ("Which telegrams about the loan exist?", ["telegram", "loan"]),  # a preposition after the noun: nothing
    ],
)
def test_the_word_linking_the_documents_to_their_topic_is_no_topic(hashing_index, question, topic):
    reading = _read(hashing_index, question)
    assert reading.form == "list" and reading.topic == topic


def test_a_list_of_a_kind_of_document_requires_its_word_and_a_generic_one_does_not(hashing_index):
    assert _read(hashing_index, "Which cables concerned Mao Zedong?").required == ("telegram",)  # cable = telegram
    assert _read(hashing_index, "Which transcripts name Stalin?").required == ("transcript",)
    assert _read(hashing_index, "Which papers concerned Mao Zedong?").required == ()
    assert _read(hashing_index, "What did Stalin say about telegrams?").required == ()  # not a list


def test_a_person_named_in_no_role_is_matched_by_a_handle_of_theirs_alone(hashing_index):
    (mao,) = _read(hashing_index, "Which cables concerned Mao Zedong?").names
    assert mao.held_by({"mao"}) and mao.tokens == {"mao", "zedong"}
    assert _read(hashing_index, "What did Kovalev send to Mao Zedong?").names == ()  # a recipient: a filter instead


@pytest.mark.parametrize(
    ("follow_up", "previous", "resolved"),
    [
        (
            "And about Shanghai?",
            "What did Kovalev tell Filippov about Wang Ming?",
            "What did Kovalev tell Filippov about Shanghai",
        ),
        ("And Xinjiang?", "Which documents mention Manchuria in 1949?", "Which documents mention Xinjiang in 1949"),
        (
            "What about the fleet in June 1949?",
            "What did Kovalev report on the loan in May 1949?",
            "What did Kovalev report on the fleet in June 1949",
        ),
        (
            "And the port city of Shanghai?",
            "What do the papers say regarding Outer Mongolia?",
            "What do the papers say regarding the port city of Shanghai",
        ),
        ("And Mikoyan?", "Who was Kovalev?", "Who was Mikoyan"),
        # no topic after a marker in the previous question: added, as before
        (
            "And the structure of state power?",
            "What did Mikoyan discuss with Mao Zedong?",
            "What did Mikoyan discuss with Mao Zedong the structure of state power",
        ),
        # no topic in the follow-up (a person in a role, a date): the frame changes, the topic stays
        ("And from Stalin?", "What did Kovalev say about the loan?", "What did Kovalev say about the loan from Stalin"),
        ("And in 1963?", "What did Kovalev say about the loan in 1949?", "What did Kovalev say about the loan in 1963"),
    ],
)
def test_a_follow_up_with_a_topic_keeps_the_frame_and_swaps_the_topic(hashing_index, follow_up, previous, resolved):
    assert resolve_follow_up(follow_up, [previous], hashing_index.analyzer, hashing_index.people) == resolved


def test_without_the_collections_words_a_follow_ups_topic_is_added():
    assert resolve_follow_up("And about Shanghai?", ["What did Kovalev tell Stalin about Wang Ming?"]) == (
        "What did Kovalev tell Stalin about Wang Ming about Shanghai"
    )
