"""What the app and the exported conversation show of a written answer: its checked sentences escaped, its label,
or the one line saying why the quoted answer is shown instead."""

from __future__ import annotations

import re
from dataclasses import replace

from qa.chat.text import answer_markdown, turn_markdown, written_label
from qa.types import Answer, AnswerSentence, Filters, Written, WrittenSentence

QUOTED = Answer("Who met Mao?", "Who met Mao?", "Mikoyan and Mao Zedong discuss Outer Mongolia. [1]",
                [AnswerSentence("Mikoyan and Mao Zedong discuss Outer Mongolia.", 1, "r1", "")])
HOSTILE = WrittenSentence("Mikoyan met Mao <img src=x onerror=alert(1)> and **Zhou** [see](http://evil.example).",
                          (1, 2), "Mikoyan and Mao Zedong")


def written(removed: int = 0) -> Answer:
    reasons = ["“Molotov met Mao.”: the name 'Molotov' is not in the documents it cites"] * removed
    return replace(QUOTED, written=Written("qwen2.5:7b", [HOSTILE], reasons, "", 1 + removed, 900.0))


def test_a_written_answer_is_its_checked_sentences_escaped_with_their_markers():
    text = answer_markdown(written())
    assert text.endswith("**\\[1\\]****\\[2\\]**")
    assert not re.search(r"(?<!\\)<img", text) and "\\<img" in text
    assert "\\*\\*Zhou\\*\\*" in text and "](http" not in text
    assert "Outer Mongolia" not in text  # the quotations are drawn apart, under their own fold
    assert answer_markdown(written(removed=2)).endswith(
        "\n\n2 sentences removed\\: not supported by the cited documents\\."
    )


def test_the_label_names_the_model_or_says_why_the_quoted_answer_is_shown():
    assert written_label(QUOTED) is None
    assert written_label(written()) == "Written by qwen2\\.5\\:7b\\, checked against the sources"
    fell_back = replace(QUOTED, written=Written("qwen2.5:7b", fallback="the model server answered 500"))
    assert fell_back.kind == "quoted" and answer_markdown(fell_back) == answer_markdown(QUOTED)
    assert written_label(fell_back, light=True) == (
        "Written answer not shown: the model server answered 500. The quoted answer is shown instead."
    )


def test_the_exported_turn_holds_the_written_answer_and_its_label():
    lines = turn_markdown(1, {"answer": written(), "filters": Filters(), "k": 5, "mode": "hybrid"})
    text = "\n".join(lines)
    assert "_Written by qwen2.5:7b, checked against the sources_" in text
    assert "Mikoyan met Mao \\<img src=x onerror=alert(1)\\> and \\*\\*Zhou\\*\\*" in text and "\\[1\\]\\[2\\]" in text
