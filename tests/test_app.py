"""The chat page, run in-process with Streamlit's AppTest on temporary copies of the shipped corpus and index."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
SHIPPED_CORPUS = REPO / "corpus"
APP = str(REPO / "app.py")
TIMEOUT = 180  # the first run of the session loads the model


@pytest.fixture
def app(shipped_config, monkeypatch):
    """The page on the shipped corpus (index built once per session), after its first run."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("ARCHIVE_QA_CORPUS", str(shipped_config.corpus))
    monkeypatch.setenv("ARCHIVE_QA_INDEX", str(shipped_config.index_dir))
    monkeypatch.setenv("ARCHIVE_QA_CACHE", str(shipped_config.cache))  # one model export for all the page's tests
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    return at


def ask(at, question: str):
    at.chat_input(key="question").set_value(question).run()
    assert not at.exception
    return at


def markdown_values(at) -> list[str]:
    return [m.value for m in at.markdown]


def captions(at) -> list[str]:
    return [c.value for c in at.caption]


def unescape(text: str) -> str:
    """The text Markdown shows for backslash-escaped punctuation."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text)


def test_empty_state_describes_the_collection_and_offers_examples(app):
    intro = unescape(markdown_values(app)[0])
    assert intro.startswith("10 documents from sino-soviet-relations, dated 1949 to 1977 (1 undated).")
    examples = [b for b in app.button if b.key and b.key.startswith("example-")]
    assert len(examples) == 3
    assert not app.chat_message  # no conversation yet
    status = unescape(" ".join(c.value for c in app.sidebar.caption))
    assert "10 records · model all-MiniLM-L6-v2 · built" in status and "Index up to date" in status


def test_sidebar_charts_the_collection_documents_per_year(app):
    import pyarrow as pa

    charts = [e for e in app.sidebar if getattr(e, "type", None) == "vega_lite_chart"]
    assert len(charts) == 1
    table = pa.ipc.open_stream(charts[0].proto.data.data).read_all().to_pydict()
    assert table["year"] == list(range(1949, 1978))  # a true time axis: years without documents are there, as 0
    counts = dict(zip(table["year"], table["documents"], strict=True))
    assert (counts[1949], counts[1963], counts[1977]) == (7, 1, 1)  # the seed's nine dated records
    assert sum(counts.values()) == 9


def test_ask_shows_cited_answer_with_source_cards_and_citations(app):
    ask(app, "What did Stalin tell Mao about the economic situation in China?")
    assert len(app.chat_message) == 2
    user, assistant = app.chat_message
    assert unescape(user.markdown[0].value) == "What did Stalin tell Mao about the economic situation in China?"
    answer = assistant.markdown[0].value
    assert "**\\[1\\]**" in answer  # the citation marker
    assert "Stalin gives to Mao" in unescape(answer)
    headings = [m.value for m in assistant.markdown if m.value.startswith("**\\[")]
    assert unescape(headings[0]) == "**[1] Cable, Stalin to Mao Zedong [via Kovalev]**"
    details = [unescape(c.value) for c in assistant.caption if "retrieval score" in c.value]
    assert details[0].startswith("May 26, 1949 · sino-soviet-relations · retrieval score 0.0")
    cite = assistant.code[0].value.splitlines()
    assert cite[0] == "[1] “Cable, Stalin to Mao Zedong [via Kovalev]”, May 26, 1949, sino-soviet-relations."
    assert len(cite) == len(headings) - len(app.session_state["turns"][0]["answer"].related)
    assert app.sidebar.button(key="clear_chat").disabled is False


def test_follow_up_uses_the_conversation(app):
    ask(app, "What did Stalin tell Mao about the economic situation in China?")
    ask(app, "What about 1977?")
    turns = app.session_state["turns"]
    assert len(turns) == 2
    follow_up = turns[1]["answer"]
    assert follow_up.resolved_question != follow_up.question
    assert "economic situation" in follow_up.resolved_question
    assert any("Read with the previous question as" in c.value for c in app.chat_message[3].caption)


def test_example_question_is_asked_when_clicked(app):
    example = app.button(key="example-0")
    question = unescape(example.label)
    example.click().run()
    assert not app.exception
    assert len(app.chat_message) == 2
    assert unescape(app.chat_message[0].markdown[0].value) == question
    assert "**\\[1\\]**" in app.chat_message[1].markdown[0].value
    assert not [b for b in app.button if b.key and b.key.startswith("example-")]  # the empty state is gone


def test_sidebar_date_range_limits_the_sources(app):
    app.sidebar.slider(key="years").set_value((1950, 1977)).run()
    ask(app, "What did the party secretaries say about Maoism?")
    answer = app.session_state["turns"][-1]["answer"]
    assert answer.applied_filter.source == "filters"
    assert answer.applied_filter.description == "showing documents from 1950 on"
    assert not answer.notice
    assert all(s.record.date and s.record.date >= "1950" for s in (*answer.sources, *answer.related))
    assert "Date filter set in the sidebar: showing documents from 1950 on." in [unescape(c) for c in captions(app)]
    # Nothing from 1950 on answers this one (Filippov signs the 1949 cables): the page says so above the wider results.
    ask(app, "Who is Filippov?")
    answer = app.session_state["turns"][-1]["answer"]
    assert answer.notice and any(s.record.date < "1950" for s in answer.sources)
    assert unescape(app.chat_message[3].warning[0].value) == answer.notice


def test_number_of_sources_and_retrieval_mode_are_used(app):
    app.sidebar.slider(key="k").set_value(2).run()
    app.sidebar.radio(key="mode").set_value("bm25").run()
    ask(app, "What did Stalin tell Mao about the economic situation in China?")
    answer = app.session_state["turns"][-1]["answer"]
    assert answer.mode == "bm25"
    assert 1 <= len(answer.sources) + len(answer.related) <= 2
    assert app.chat_message[1].caption[-1].value.startswith("Exact words (BM25) · ")


def test_date_read_from_the_question_is_shown_and_can_be_cleared(app):
    ask(app, "What did Mikoyan and Mao Zedong discuss in 1949?")
    sidebar = " ".join(m.value for m in app.sidebar.markdown)
    assert "Date read from your question" in sidebar
    assert "Showing documents from 1949 (and undated ones)." in [unescape(c.value) for c in app.sidebar.caption]
    app.sidebar.button(key="clear_inferred").click().run()
    assert not app.exception
    turns = app.session_state["turns"]
    assert len(turns) == 1  # asked again in place, not added
    assert turns[0]["answer"].applied_filter is None
    assert turns[0]["filters"].infer_dates is False
    assert any("the date in the question was ignored" in c for c in captions(app))
    assert "Date read from your question" not in " ".join(m.value for m in app.sidebar.markdown)


def test_abstention_is_shown_as_such(app):
    ask(app, "Who was the first man to walk on the moon?")
    assistant = app.chat_message[1]
    assert "does not seem to cover this question" in assistant.info[0].value
    assert any(m.value.startswith("**Closest documents**") for m in assistant.markdown)
    assert not any("**\\[1\\]**" in m.value for m in assistant.markdown)  # no citation marker
    assert not assistant.code  # nothing offered for citation


def test_clear_chat_empties_the_conversation(app):
    ask(app, "What did Stalin tell Mao about the economic situation in China?")
    assert app.chat_message
    app.sidebar.button(key="clear_chat").click().run()
    assert not app.exception
    assert not app.chat_message
    assert app.session_state["turns"] == []
    assert [b for b in app.button if b.key and b.key.startswith("example-")]  # back to the empty state


@pytest.fixture
def own_index(tmp_path, shipped_config, embedder, monkeypatch):
    """A corpus copy with its own index, which the test may change or rebuild."""
    from qa.config import Config
    from qa.index import ArchiveIndex

    shutil.copytree(SHIPPED_CORPUS, tmp_path / "corpus")
    config = Config(corpus=tmp_path / "corpus", index=tmp_path / "index", cache=shipped_config.cache)
    ArchiveIndex.build(config, embedder=embedder)
    monkeypatch.setenv("ARCHIVE_QA_CORPUS", str(config.corpus))
    monkeypatch.setenv("ARCHIVE_QA_INDEX", str(config.index_dir))
    monkeypatch.setenv("ARCHIVE_QA_CACHE", str(config.cache))
    return config


def test_stale_index_is_reported_and_rebuilt_from_the_page(own_index):
    from streamlit.testing.v1 import AppTest

    extra = own_index.corpus / "extra.jsonl"
    extra.write_text(
        '{"title": "Note on the Sino-Soviet border talks", "date": "1969-10-20", '
        '"summary": "Soviet and Chinese delegations meet in Beijing to discuss the disputed border."}\n',
        encoding="utf-8",
    )
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    warning = unescape(at.warning[0].value)
    assert "The index cannot be used as it is." in warning
    assert "The corpus changed since the index was built (added extra.jsonl)" in warning
    assert at.chat_input[0].proto.disabled
    assert "Index out of date" in " ".join(c.value for c in at.sidebar.caption)

    at.button(key="rebuild_main").click().run()
    assert not at.exception
    assert not at.warning
    assert unescape(at.status[0].label).startswith("Index built: 11 records (1 embedded, 10 reused, 0 removed)")
    assert "11 records" in " ".join(c.value for c in at.sidebar.caption)
    ask(at, "What happened at the border talks in 1969?")
    answer = at.session_state["turns"][-1]["answer"]
    assert answer.sources[0].record.title == "Note on the Sino-Soviet border talks"


def test_missing_index_offers_the_rebuild(own_index, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("ARCHIVE_QA_INDEX", str(tmp_path / "no-index-yet"))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    assert "No index in" in unescape(at.warning[0].value)
    assert "No usable index" in [c.value for c in at.sidebar.caption]
    at.sidebar.button(key="rebuild_sidebar").click().run()
    assert not at.exception
    assert not at.warning
    assert (tmp_path / "no-index-yet" / "current").exists()
    assert "10 records" in " ".join(c.value for c in at.sidebar.caption)
