"""qa.text: corpus and user text shown literally in Markdown; citations and the conversation file."""

from __future__ import annotations

import re

import pytest

from qa.answer import Answer, AnswerSentence, AppliedFilter, Source
from qa.records import Record
from qa.text import (
    answer_footer,
    answer_markdown,
    answer_notes,
    archive_link,
    citation_list,
    conversation_markdown,
    escape_markdown,
    first_upper,
    inferred_date,
    safe_url,
    source_details,
    source_heading,
    timeline_rows,
    undated_note,
)


def unescape(markdown: str) -> str:
    """What the reader sees of escaped text: each escaped punctuation character as itself, no word joiners."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown).replace("\u2060", "")


def record(title="A title", summary="A summary.", date="1949-05-26", url=None, rid="r1") -> Record:
    precision = {4: "year", 7: "month", 10: "day"}.get(len(date or ""))
    return Record(rid, title, date, precision, summary, url, "sino-soviet", "corpus/x.txt:1")


HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="window.pwned=1">',
    "![tracker](http://evil.example/p.png)",
    "[click me](javascript:alert(1))",
    "**bold** _em_ `code` ~~strike~~",
    "# heading\n- item\n1. item\n> quote\n    indented code",
    "$E=mc^2$ and :red[coloured] and :material/home:",
    "http://evil.example/x and www.evil.example and HTTPS://x.example and spy@evil.example",
    "&lt;b&gt; entity &amp; | table | cell |",
    "back\\slash \\[not a marker\\]",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_escape_markdown_leaves_no_unescaped_markdown_punctuation(text):
    escaped = escape_markdown(text)
    # Every ASCII punctuation character is preceded by a backslash: nothing can start a construct.
    assert not re.search(r"(?<!\\)(?:\\\\)*[<>\[\]()*_`~#$:&|!]", escaped.replace("\\\\", ""))
    # ...and the reader sees exactly the text (apart from dropped line indentation).
    assert unescape(escaped) == "\n".join(line.lstrip() for line in text.split("\n"))


def test_escape_markdown_keeps_plain_text_and_non_ascii():
    assert escape_markdown("Mao Zedong and Stalin in 1949") == "Mao Zedong and Stalin in 1949"
    assert escape_markdown("“Worker’s Party” — Sofia") == "“Worker’s Party” — Sofia"
    assert escape_markdown(None) == "None"


def test_escape_markdown_stops_bare_addresses_becoming_links():
    escaped = escape_markdown("see http://a.example, WWW.b.example or spy@c.example")
    # GFM finds these in the displayed text (after escapes): a word joiner breaks each pattern.
    shown = re.sub(r"\\(.)", r"\1", escaped)
    assert not re.search(r"https?://|www\.|[-.\w+]@", shown, re.I)
    assert shown.replace("\u2060", "") == "see http://a.example, WWW.b.example or spy@c.example"


def test_escape_markdown_drops_indentation_that_would_make_a_code_block():
    assert escape_markdown("first\n    second") == "first\nsecond"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://digitalarchive.example/document/1", "https://digitalarchive.example/document/1"),
        ("http://a.example/x?y=1&z=2#top", "http://a.example/x?y=1&z=2#top"),
        ("https://a.example/a (b)", "https://a.example/a%20%28b%29"),
        ("https://a.example/<script>", "https://a.example/%3Cscript%3E"),
        ("javascript:alert(1)", None),
        ("data:text/html,<b>x</b>", None),
        ("file:///etc/passwd", None),
        ("//no-scheme.example", None),
        ("https://", None),
        ("http://[::1", None),
        ("", None),
        (None, None),
    ],
)
def test_safe_url(url, expected):
    assert safe_url(url) == expected


def test_archive_link_only_for_http_links():
    ok = Source(1, record(url="https://archive.example/doc/7"), 0.03, 0.5, True)
    assert archive_link(ok) == "[Open in the archive ↗](https://archive.example/doc/7)"
    bad = Source(1, record(url="javascript:alert(1)"), 0.03, 0.5, True)
    assert archive_link(bad) is None
    assert archive_link(Source(1, record(), 0.03, 0.5, True)) is None


def cited_answer() -> Answer:
    r1 = record("Cable, Stalin to Mao [via Kovalev]", "Stalin **shouts** [3]. Then more.", "1949-05-26", rid="a")
    r2 = record("Undated note", "Something <b>else</b>.", None, rid="b")
    r3 = record("Related one", "Not cited.", "1963", rid="c")
    sentences = [
        AnswerSentence("Stalin **shouts** [3].", 1, "a", "In “Cable, Stalin to Mao [via Kovalev]” (May 26, 1949):"),
        AnswerSentence("Then more.", 1, "a", "In “Cable, Stalin to Mao [via Kovalev]” (May 26, 1949):"),
        AnswerSentence("Something <b>else</b>.", 2, "b", "In “Undated note” (undated):"),
    ]
    answer = Answer("What did Stalin say?", "What did Stalin say?", "plain text", sentences)
    answer.sources = [Source(1, r1, 0.0328, 0.61, True), Source(2, r2, 0.031, 0.4, True)]
    answer.related = [Source(3, r3, 0.02, 0.2, False)]
    answer.applied_filter = AppliedFilter(
        "showing documents from 1949", "filters", "from 1949", 19490101, 19491231, False
    )
    return answer


def test_answer_markdown_marks_citations_from_the_sentences_not_the_text():
    md = answer_markdown(cited_answer())
    paragraphs = md.split("\n\n")
    assert len(paragraphs) == 2  # one per run of sentences from the same source
    assert paragraphs[0].endswith("Then more\\. **\\[1\\]**")
    assert paragraphs[1].endswith("**\\[2\\]**")
    # The summary's own "[3]" and "**" stay literal text, not a marker or bold.
    assert "**\\[3\\]**" not in md
    assert "\\*\\*shouts\\*\\* \\[3\\]" in md
    assert "\\<b\\>" in md


def test_answer_markdown_for_an_abstention_is_the_escaped_text():
    answer = Answer("q?", "q?", "The collection does not seem to cover this (really).", abstained=True)
    assert answer_markdown(answer) == "The collection does not seem to cover this \\(really\\)\\."


def test_source_card_parts_are_escaped():
    source = cited_answer().sources[0]
    assert source_heading(source) == "**\\[1\\] Cable\\, Stalin to Mao \\[via Kovalev\\]**"
    details = unescape(source_details(source))
    assert details == "May 26, 1949 · sino-soviet · retrieval score 0.0328 · similarity 0.61"


def test_citation_list_has_one_line_per_source():
    lines = citation_list(cited_answer().sources).splitlines()
    assert lines == [
        "[1] “Cable, Stalin to Mao [via Kovalev]”, May 26, 1949, sino-soviet.",
        "[2] “Undated note”, undated, sino-soviet.",
    ]


def test_conversation_markdown_holds_questions_answers_and_citations():
    abstained = Answer("Who walked on the moon?", "Who walked on the moon?", "Not covered.", abstained=True)
    abstained.related = [Source(1, record("Closest"), 0.01, 0.1, False)]
    errored = Answer("", "", error="Please type a question.", abstained=True)
    md = conversation_markdown([cited_answer(), abstained, errored])
    assert md.startswith("# Archive QA conversation\n")
    assert "## Question 1\n\n**Q:** What did Stalin say?\n" in md
    assert md.count("What did Stalin say?") == 1
    assert "[1] “Cable, Stalin to Mao [via Kovalev]”, May 26, 1949, sino-soviet." in md
    assert "_showing documents from 1949_" in md
    assert "## Question 2\n\n**Q:** Who walked on the moon?\n" in md
    assert "Closest documents:\n- [1] “Closest”, May 26, 1949, sino-soviet." in md
    assert "## Question 3\n\n**Q:** \n\nPlease type a question." in md
    assert md.endswith("\n") and not md.endswith("\n\n")


def test_timeline_rows_skip_undated_documents():
    rows = timeline_rows(cited_answer())
    assert rows == [
        {
            "n": "[1]",
            "title": "Cable, Stalin to Mao [via Kovalev]",
            "date": "1949-05-26",
            "shown_date": "May 26, 1949",
            "kind": "cited",
        },
        {"n": "[3]", "title": "Related one", "date": "1963-01-01", "shown_date": "1963", "kind": "not cited"},
    ]


def test_undated_note_names_the_documents_off_the_timeline():
    assert unescape(undated_note(cited_answer())) == "Undated, not on the timeline: [2]"
    dated = cited_answer()
    dated.sources = dated.sources[:1]
    assert undated_note(dated) is None


def test_answer_notes_say_how_the_question_was_read():
    answer = cited_answer()
    assert [unescape(n) for n in answer_notes(answer)] == [
        "Date filter set in the sidebar: showing documents from 1949."
    ]
    answer.resolved_question = "What did Stalin say <about> 1977?"
    answer.applied_filter = AppliedFilter("showing documents from 1977", "question", "from 1977", 1977, 1977, True)
    notes = answer_notes(answer)
    assert notes[0] == "Read with the previous question as: What did Stalin say \\<about\\> 1977\\?"
    assert unescape(notes[1]) == "Date filter read from the question: showing documents from 1977."
    answer.applied_filter = None
    ignored = "No date filter: the date in the question was ignored, as asked."
    assert answer_notes(answer, infer_dates=False)[1] == ignored
    assert len(answer_notes(answer)) == 1


def test_inferred_date_only_for_a_date_read_from_the_question():
    answer = cited_answer()
    assert inferred_date(answer) is None  # set in the sidebar
    assert inferred_date(None) is None
    answer.applied_filter = AppliedFilter("showing documents from 1949 (and undated ones)", "question", "", 1, 2, True)
    assert unescape(inferred_date(answer)) == "Showing documents from 1949 (and undated ones)."


def test_answer_footer_and_first_upper():
    answer = cited_answer()
    answer.mode, answer.timings = "bm25", {"total_ms": 12.4}
    assert answer_footer(answer) == "Exact words (BM25) · 12 ms"
    assert first_upper("the corpus changed (added a.jsonl)") == "The corpus changed (added a.jsonl)"
    assert first_upper("") == ""
