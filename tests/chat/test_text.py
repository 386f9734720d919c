"""qa.chat.text: corpus and user text shown literally in Markdown; citations and the conversation file."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest

from qa.chat.citations import Link, safe_url
from qa.chat.text import (
    answer_footer,
    answer_markdown,
    answer_notes,
    cited_records,
    conversation_export,
    conversation_markdown,
    correspondents_line,
    escape_markdown,
    first_upper,
    follow_ups,
    full_text_markdown,
    highlight,
    link_markdown,
    listing_line,
    passage_markdown,
    question_date,
    question_words,
    record_meta,
    short_title,
    source_label,
    summary_markdown,
    timeline_axis,
    timeline_note,
    timeline_rows,
    timeline_span,
    why_lines,
)
from qa.records import Record
from qa.types import Answer, AnswerSentence, AppliedFilter, AppliedPeople, Filters, Source


def unescape(markdown: str) -> str:
    """What the reader sees of escaped text: each escaped punctuation character as itself, no word joiners."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown).replace("\u2060", "")


def record(title="A title", summary="A summary.", date="1949-05-26", url=None, rid="r1") -> Record:
    precision = {4: "year", 7: "month", 10: "day"}.get(len(date or ""))
    return Record(
        id=rid, title=title, date=date, date_precision=precision, summary=summary, url=url, collection="sino-soviet",
        source="corpus/x.txt:1",
    )


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


def tokens(text: str) -> list[str]:
    """A stand-in for the index's analyzer: lower-case words without a final "s", stop words out."""
    return [w.lower().rstrip("s") for w in re.findall(r"\w+", text) if w.lower() not in {"the", "what", "did", "to"}]


def test_escape_markdown_light_escapes_only_what_starts_markup():
    text = "Cable, Stalin to Mao [via Kovalev] (1949): <b>**x**</b> & #1 | $5 ~ `c` !"
    light = escape_markdown(text, light=True)
    assert light == (
        "Cable, Stalin to Mao \\[via Kovalev\\] (1949): \\<b\\>\\*\\*x\\*\\*\\</b\\> \\& \\#1 \\| \\$5 \\~ \\`c\\` \\!"
    )
    assert unescape(light) == text


def test_highlight_marks_the_questions_words_and_escapes_the_rest():
    wanted = question_words("What did Kovalev report to Stalin?", tokens)
    marked = highlight("Kovalev reports <b>to</b> Stalin's [1] http://x.example", wanted)
    assert marked == (
        ":orange-background[Kovalev] :orange-background[reports] \\<b\\>to\\<\\/b\\> "
        ":orange-background[Stalin\\'s] \\[1\\] http\\:\u2060\\/\\/x\\.example"
    )
    assert highlight("<script>", lambda w: True) == "\\<:orange-background[script]\\>"


def test_summary_marks_the_quoted_sentences_in_italics():
    r = record(summary="Stalin **shouts** at Mao. Then more. Kovalev listens.")
    wanted = question_words("Stalin", tokens)
    assert summary_markdown(r, wanted, ["Then more."]) == (
        ":orange-background[Stalin] \\*\\*shouts\\*\\* at Mao\\. *Then more\\.* Kovalev listens\\."
    )
    assert summary_markdown(record(summary=" "), wanted) == "_No summary._"


def test_short_titles():
    assert short_title("Cable, Stalin to Mao") == "Cable, Stalin to Mao"
    assert short_title("Memorandum of Conversation between Anastas Mikoyan and Mao Zedong", 40) == (
        "Memorandum of Conversation between…"
    )
    assert short_title("x" * 60, 10) == "x" * 10 + "…"


def test_card_lines_are_escaped():
    r = Record(
        id="r", title="Ciphered Telegram No. 1 from Kovalev to Filippov [Stalin] [via Roshchin]", date="1949-05",
        date_precision="month", summary="s", url=None, collection="sino-soviet", source="x:1", record_type="Telegram",
        language="Russian", archive="APRF", archive_id="112345", listed_under="Mao <Zedong>", people=("Mao",),
        topics=("Loans", "*x*"),
    )
    assert unescape(record_meta(r)) == "May 1949 · Telegram · Russian · APRF · Record ID 112345"
    assert unescape(correspondents_line(r)) == "From Kovalev to Stalin via Roshchin"
    assert unescape(listing_line(r)) == "Listed under Mao <Zedong> · People: Mao · Topics: Loans, *x*"
    assert "\\<Zedong\\>" in listing_line(r) and "\\*x\\*" in listing_line(r)
    assert correspondents_line(record(title="A note")) is None and listing_line(record()) is None
    meeting = record(title="Memorandum of Conversation between Anastas Mikoyan and Mao Zedong")
    assert unescape(correspondents_line(meeting)) == "Between Anastas Mikoyan, Mao Zedong"


def test_source_label_and_links():
    source = cited_answer().sources[0]
    assert unescape(source_label(source)) == "[1] Cable, Stalin to Mao [via Kovalev] — May 26, 1949"
    assert link_markdown(Link("https://a.example/d/1", True)) == "[Open in the archive ↗](https://a.example/d/1)"
    assert link_markdown(Link("https://a.example/search?q=x", False)) == (
        "[Search the archive for this title ↗](https://a.example/search?q=x)"
    )
    assert link_markdown(None) is None


def test_full_text_is_escaped_one_paragraph_a_line():
    assert full_text_markdown("First <b>line</b>.\n\n  Second *line*.") == (
        "First \\<b\\>line\\<\\/b\\>\\.\n\nSecond \\*line\\*\\."
    )


def test_why_this_source_in_plain_words():
    answer = cited_answer()
    answer.resolved_question = "What did Stalin shout?"
    answer.ranking = [("c", 0.05), ("a", 0.03), ("b", 0.02)]
    source = replace_quoted(answer.sources[0], ("Stalin **shouts** [3].",))
    lines = [unescape(line) for line in why_lines(source, answer, tokens)]
    assert lines == [
        "The answer quotes 1 sentence of its summary.",
        "The search placed it 2nd of 3 documents.",
        "Its title or summary holds these words of your question: Stalin, shout.",
        "It is close to your question in meaning.",
    ]
    scored = unescape(why_lines(source, answer, tokens, scores=True)[-1])
    assert scored == "It is close to your question in meaning (similarity 0.61, where 1 is the same meaning)."
    answer.mode = "bm25"
    related = [unescape(line) for line in why_lines(answer.related[0], answer, tokens)]
    assert related == [
        "The search found it, but none of its sentences answered as closely as those quoted.",
        "The search placed it 1st of 3 documents.",
        "Its title and summary hold none of your question's words.",
    ]


def replace_quoted(source, quoted):
    from dataclasses import replace

    return replace(source, quoted=quoted)


def test_answer_notes_say_how_the_question_was_read():
    answer = cited_answer()
    notes = [unescape(n) for n in answer_notes(answer)]
    assert notes == ["Date filter set in the sidebar: showing documents from 1949."]
    answer.resolved_question = "What did Stalin say <about> 1977?"
    answer.applied_filter = AppliedFilter("showing documents from 1977", "question", "from 1977", 1977, 1977, True)
    answer.people_filter = AppliedPeople("showing documents written by Stalin", "question", "written by Stalin")
    notes = answer_notes(answer)
    assert notes[0] == "Read with the previous question as: What did Stalin say \\<about\\> 1977\\?"
    assert [unescape(n) for n in notes[1:]] == [
        "Date filter read from the question: showing documents from 1977.",
        "People read from the question: showing documents written by Stalin.",
    ]
    answer.applied_filter = answer.people_filter = None
    assert [unescape(n) for n in answer_notes(answer, infer_dates=False)[1:]] == [
        "No date filter: the date in the question was ignored, as asked."
    ]


def test_question_date_only_for_a_date_read_from_the_question():
    answer = cited_answer()
    assert question_date(answer) is None  # set in the sidebar
    assert question_date(None) is None
    answer.applied_filter = AppliedFilter("showing documents from 1949 (and undated ones)", "question", "", 1, 2, True)
    assert question_date(answer) is answer.applied_filter


def test_answer_footer_in_plain_words_and_first_upper():
    answer = cited_answer()
    answer.mode, answer.timings = "bm25", {"total_ms": 12.4}
    assert answer_footer(answer) == "Found by exact words"
    assert answer_footer(answer, timing=True) == "Found by exact words · 12 ms"
    answer.mode = "hybrid"
    assert answer_footer(answer, 5) == "Found by meaning and exact words among the 5 closest documents"
    assert first_upper("the corpus changed (added a.jsonl)") == "The corpus changed (added a.jsonl)"
    assert first_upper("") == ""


def dated(n, date, kind="cited"):
    return {"n": f"[{n}]", "date": date, "kind": kind}


def test_timeline_rows_are_in_date_order_with_short_titles():
    rows = timeline_rows(cited_answer())
    assert rows == [
        {
            "n": "[1]",
            "label": "[1] Cable, Stalin to Mao [via Kovalev]",
            "title": "Cable, Stalin to Mao [via Kovalev]",
            "date": "1949-05-26",
            "shown_date": "May 26, 1949",
            "kind": "cited",
        },
        {"n": "[3]", "label": "[3] Related one", "title": "Related one", "date": "1963-01-01",
         "shown_date": "1963", "kind": "not cited"},
    ]


def test_the_timeline_fits_the_cited_documents_years():
    rows = [dated(1, "1949-02-06"), dated(2, "1949-07-06", "not cited"), dated(3, "1977-03-02", "not cited")]
    assert [r["n"] for r in timeline_span(rows)] == ["[1]", "[2]"]
    assert timeline_span(rows[1:]) == rows[1:]  # nothing cited: every document
    rows[2]["kind"] = "cited"
    assert timeline_span(rows) == rows


def test_the_timeline_axis_is_in_months_under_two_years():
    months = timeline_axis([dated(1, "1949-02-06"), dated(2, "1949-07-06")])
    assert months == {"from": "1949-01-01", "to": "1949-09-01", "format": "%b %Y", "interval": "month", "step": 1}
    one = timeline_axis([dated(1, "1949-12-31")])
    assert (one["from"], one["to"], one["interval"]) == ("1949-11-01", "1950-02-01", "month")
    assert timeline_axis([dated(1, "1949-01-01"), dated(2, "1950-12-01")])["interval"] == "month"
    years = timeline_axis([dated(1, "1949-02-06"), dated(2, "1977-03-02")])
    assert years == {"from": "1948-07-01", "to": "1978-07-01", "format": "%Y", "interval": "year", "step": 3}


def test_the_timeline_note_names_the_documents_off_the_chart():
    answer = cited_answer()
    shown = timeline_span(timeline_rows(answer))
    assert unescape(timeline_note(answer, shown)) == (
        "Undated, not on the timeline: [2] Undated note  \nOutside the years of the cited documents: "
        "[3] Related one (1963)"
    )
    answer.sources = answer.sources[:1]
    answer.related = []
    assert timeline_note(answer, timeline_rows(answer)) is None


def test_the_exported_conversation():
    from datetime import UTC, datetime

    abstained = Answer("Who walked on the moon?", "Who walked on the moon?", "Not covered.", abstained=True)
    abstained.related = [Source(1, record("Closest <b>"), 0.01, 0.1, False)]
    errored = Answer("", "", error="Please type a question.", abstained=True)
    follow = cited_answer()
    follow.question = "And <in> 1949?"
    turns = [
        {"answer": follow, "filters": Filters(), "k": 5, "mode": "hybrid"},
        {"answer": abstained, "filters": Filters(infer_dates=False), "k": 3, "mode": "bm25"},
        {"answer": errored, "filters": Filters(), "k": 5, "mode": "hybrid"},
    ]
    md = conversation_markdown(turns, exported_at=datetime(2024, 5, 1, 12, 30, tzinfo=UTC))
    assert md.startswith("# Archive QA conversation\n\nExported from Archive QA on 2024-05-01 12:30 UTC.\n")
    assert "## Question 1\n\n**Asked:** And \\<in\\> 1949?  \n**Read as:** What did Stalin say?  \n" in md
    assert "**Filters:** date filter set in the sidebar: showing documents from 1949  \n" in md
    assert "**Search:** meaning and exact words (recommended), 5 documents considered\n" in md
    assert "Stalin \\*\\*shouts\\*\\* \\[3\\]. \\[1\\]" in md  # the answer, its markers and the corpus text escaped
    assert '- \\[1\\] "Cable, Stalin to Mao \\[via Kovalev\\]," May 26, 1949, sino-soviet' in md
    assert "**Filters:** no date filter: the date in the question was ignored, as asked  \n" in md
    assert "**Search:** exact words only, 3 documents considered" in md
    assert '**Closest documents** (not cited)\n\n- \\[1\\] "Closest \\<b\\>," May 26, 1949, sino-soviet' in md
    assert "## Question 3\n\n**Asked:**   \n\nPlease type a question." in md
    assert "<b>" not in md and "<in>" not in md
    assert md.endswith("\n") and not md.endswith("\n\n")
    # Every cited source once at the end (the abstained answer's closest document is not cited).
    assert md.split("## Every source cited\n\n")[1].count("\n") == len(cited_records(turns)) == 2


def test_a_conversation_exports_every_cited_source_once():
    rispy = pytest.importorskip("rispy")
    first, second = cited_answer(), cited_answer()
    second.sources = [second.sources[1], Source(2, record("Third", "More.", "1950", rid="d"), 0.02, 0.3, True)]
    turns = [{"answer": a, "filters": Filters(), "k": 5, "mode": "hybrid"} for a in (first, second)]
    records = cited_records(turns)
    assert [r.id for r in records] == ["a", "b", "d"]
    entries = rispy.loads(conversation_export(turns, "ris"))
    assert [e["id"] for e in entries] == [r.id for r in records]
    assert [i["id"] for i in json.loads(conversation_export(turns, "csl"))] == [r.id for r in records]
    assert conversation_export(turns, "bibtex").count("@misc{") == len(records)
    assert conversation_export(turns, "md").startswith("# Archive QA conversation")


def test_follow_ups_come_from_the_answers_people_dates_and_subjects():
    answer = cited_answer()
    answer.sources = [replace(answer.sources[0], record=replace(
        answer.sources[0].record, title="Cable, Kovalev to Stalin", date="1949-06-30", date_precision="day",
        topics=("Soviet Loans",)))]
    assert follow_ups(answer) == [
        "What else did Kovalev send to Stalin?",
        "What happened next, in July 1949?",
        "What do the documents say about Soviet Loans?",
    ]
    answer.question = answer.resolved_question = "What else did Kovalev send to Stalin?"
    assert follow_ups(answer)[0] == "What happened next, in July 1949?"  # never the question just asked
    december = replace(answer.sources[0].record, date="1950-12", date_precision="month", title="Memo", topics=())
    answer.sources = [replace(answer.sources[0], record=december)]
    assert follow_ups(answer) == ["What happened next, in January 1951?"]
    answer.sources = []
    assert follow_ups(answer) == []


def passage_answer() -> Answer:
    """An answer quoting the summary and the second paragraph of a document's full text."""
    record = Record(id="d", title="Cable <b>", date="1962-11-04", date_precision="day", summary="Mikoyan reports.",
                    url=None, collection="c", source="f:1",
                    full_text="Dear comrade,\nCastro refused *inspectors*.\nWith greetings.\nSigned.")
    sentences = [AnswerSentence("Mikoyan reports.", 1, "d", "In “Cable <b>” (November 4, 1962):"),
                 AnswerSentence("Castro refused *inspectors*.", 1, "d", "", paragraph=2)]
    answer = Answer(question="q", resolved_question="q", sentences=sentences)
    answer.sources = [Source(1, record, 0.03, 0.5, True, ("Mikoyan reports.",), ((2, "Castro refused *inspectors*."),))]
    return answer


def test_a_quoted_paragraph_is_cited_by_its_number_and_shown_in_its_context():
    from datetime import UTC, datetime

    answer = passage_answer()
    assert unescape(answer_markdown(answer, light=True)) == (
        "In “Cable <b>” (November 4, 1962): Mikoyan reports. [1] Castro refused *inspectors*. [1] ¶2"
    )
    source = answer.sources[0]
    assert passage_markdown(source.record, 2) == (
        "¶1 Dear comrade\\,\n\n**¶2** *Castro refused \\*inspectors\\*\\.*\n\n¶3 With greetings\\."
    )
    assert passage_markdown(source.record, 4).startswith("¶3 With greetings")  # the last has none after it
    lines = [unescape(line) for line in why_lines(source, answer, tokens)]
    assert lines[0] == "The answer quotes 1 sentence of its summary and its full text at ¶2."
    md = conversation_markdown([{"answer": answer}], exported_at=datetime(2024, 5, 1, 12, 30, tzinfo=UTC))
    assert "¶2" in md.split("**Sources**")[0] and "Quoted at ¶2." in md.split("**Sources**")[1]
