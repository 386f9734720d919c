"""The chat app, run in-process with Streamlit's AppTest on temporary copies of the shipped corpus and index: asking,
the one date control, saved conversations (two sessions at once, rename, delete, a damaged file, reopening by link),
the privacy rule when the server is shared, and the browse page."""

from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SHIPPED_CORPUS = REPO / "corpus"
APP = str(REPO / "app.py")
BROWSE = "app_pages/browse.py"
TIMEOUT = 180  # the first run of the session loads the model
QUESTION = "What did Stalin tell Mao about the economic situation in China?"


@pytest.fixture
def conversations(tmp_path, monkeypatch):
    """The conversation file of the test (never the user's)."""
    path = tmp_path / "data" / "conversations.sqlite3"
    monkeypatch.setenv("ARCHIVE_QA_CONVERSATIONS", str(path))
    return path


@pytest.fixture
def shipped_env(shipped_config, conversations, monkeypatch):
    monkeypatch.setenv("ARCHIVE_QA_CORPUS", str(shipped_config.corpus))
    monkeypatch.setenv("ARCHIVE_QA_INDEX", str(shipped_config.index_dir))
    monkeypatch.setenv("ARCHIVE_QA_CACHE", str(shipped_config.cache))  # one model export for all the page's tests


def session(query: dict | None = None):
    """A browser session of the app (its first run done), opened on a link's query parameters."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update(query or {})
    at.run()
    assert not at.exception
    return at


@pytest.fixture
def app(shipped_env):
    """The chat page on the shipped corpus (index built once per test session), after its first run."""
    return session()


@pytest.fixture
def shared(monkeypatch):
    """The server listening beyond this machine (a shared server), as `server.address` says."""
    import streamlit

    real = streamlit.get_option
    monkeypatch.setattr(streamlit, "get_option", lambda key: "0.0.0.0" if key == "server.address" else real(key))


def ask(at, question: str):
    at.chat_input(key="question").set_value(question).run()
    assert not at.exception
    return at


def unfold(at, section: str):
    """Open a folded section of the last turn (a card, "cite", "related") as a click would, and rerun."""
    at.session_state[f"{at.session_state['turns'][-1]['key']}-{section}"] = True
    at.run()
    assert not at.exception
    return at


def markdown_values(at) -> list[str]:
    return [m.value for m in at.markdown]


def captions(at) -> list[str]:
    return [unescape(c.value) for c in at.caption]


def unescape(text: str) -> str:
    """The text Markdown shows for backslash-escaped punctuation (word joiners removed)."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text).replace("\u2060", "")


def listed(at) -> list[str]:
    """The conversations the sidebar lists (their ids)."""
    return [b.key.removeprefix("open-") for b in at.sidebar.button if b.key and b.key.startswith("open-")]


# ---------------------------------------------------------------------------------------------- asking


def test_empty_state_describes_the_collection_and_offers_examples(app):
    intro = unescape(markdown_values(app)[0])
    assert intro.startswith(
        "10 documents from sino-soviet-relations, read from 1 page (listing-page-17_docs-161-170.txt), "
        "dated 1949 to 1977 (1 undated)."
    )
    examples = [b for b in app.button if b.key and b.key.startswith("example-")]
    assert len(examples) == 4 and examples[0].label == "Summarise the collection"
    assert not app.chat_message  # no conversation yet
    assert app.sidebar.button(key="new_conversation").disabled
    assert app.query_params == {}  # nothing saved before a question is asked


def test_ask_shows_cited_answer_with_source_lines_and_saves_it(app, conversations):
    ask(app, QUESTION)
    assert len(app.chat_message) == 2
    user, assistant = app.chat_message
    assert unescape(user.markdown[0].value) == QUESTION
    answer = assistant.markdown[0].value
    assert "**\\[1\\]**" in answer  # the citation marker
    assert "Stalin gives to Mao" in unescape(answer)
    lines = [unescape(e.label) for e in assistant.expander]
    assert lines[0] == "[1] Cable, Stalin to Mao Zedong [via Kovalev] — May 26, 1949"
    assert unescape(assistant.caption[-1].value) == "Found by meaning and exact words among the 5 closest documents"
    cid = app.query_params["conversation"]
    assert re.fullmatch(r"[0-9a-f]{32}", cid)  # 128 random bits
    with sqlite3.connect(conversations) as db:
        assert db.execute("SELECT title FROM conversations WHERE id = ?", (cid,)).fetchone() == (QUESTION,)
        assert db.execute("SELECT COUNT(*) FROM turns").fetchone() == (1,)
    suggested = assistant.button_group[0]
    assert unescape(suggested.options[0]) == "What else did Stalin send to Mao Zedong?"
    suggested.set_value("What else did Stalin send to Mao Zedong?").run()  # a click asks it
    assert unescape(app.chat_message[2].markdown[0].value) == "What else did Stalin send to Mao Zedong?"
    assert len(app.chat_message) == 4 and app.session_state[suggested.key] is None


def test_a_source_card_and_the_citations_open_on_demand(app):
    ask(app, QUESTION)
    assert not app.chat_message[1].code  # folded: nothing of the cards is sent before they are opened
    unfold(app, "card-1")
    card = app.chat_message[1].expander[0]
    text = " ".join(unescape(m.value) for m in (*card.markdown, *card.caption))
    assert "May 26, 1949" in text and "sino-soviet-relations" not in text  # a folder name is no archive
    assert "From Stalin to Mao Zedong via Kovalev" in text
    assert ":orange-background[Stalin]" in " ".join(m.value for m in card.markdown)  # the question's words
    assert "Search the archive for this title ↗" in text  # no link of its own: the archive's search
    assert "The search placed it" in text and "retrieval score" not in text
    unfold(app, "cite")
    cite = app.chat_message[1].code[0].value.splitlines()
    assert cite[0] == '[1] "Cable, Stalin to Mao Zedong [via Kovalev]," May 26, 1949, Wilson Center Digital Archive.'


def test_follow_up_uses_the_conversation(app):
    ask(app, QUESTION)
    ask(app, "What about 1977?")
    turns = app.session_state["turns"]
    assert len(turns) == 2
    follow_up = turns[1]["answer"]
    assert follow_up.resolved_question != follow_up.question
    assert "economic situation" in follow_up.resolved_question
    assert any("Read with the previous question as" in c.value for c in app.chat_message[3].caption)
    # The earlier turn is folded to a line; the newest shows its sources.
    assert [unescape(e.label) for e in app.chat_message[1].expander][0].startswith("Sources (")
    assert unescape(app.chat_message[3].expander[0].label).startswith("[1] ")


def test_example_question_is_asked_when_clicked(app):
    example = app.button(key="example-1")
    question = unescape(example.label)
    example.click().run()
    assert not app.exception
    assert len(app.chat_message) == 2
    assert unescape(app.chat_message[0].markdown[0].value) == question
    assert "**\\[1\\]**" in app.chat_message[1].markdown[0].value
    assert not [b for b in app.button if b.key and b.key.startswith("example-")]  # the empty state is gone


def test_documents_to_consider_and_the_search_are_used(app):
    app.sidebar.slider(key="k").set_value(2).run()
    app.sidebar.radio(key="mode").set_value("bm25").run()
    ask(app, QUESTION)
    answer = app.session_state["turns"][-1]["answer"]
    assert answer.mode == "bm25"
    assert 1 <= len(answer.sources) + len(answer.related) <= 2
    assert unescape(app.chat_message[1].caption[-1].value) == "Found by exact words among the 2 closest documents"


def test_written_by_and_sent_to_limit_the_answer(app):
    app.sidebar.selectbox(key="from_person").set_value("Kovalev").run()
    app.sidebar.selectbox(key="to_person").set_value("Stalin").run()
    ask(app, "What was said about the military situation?")
    answer = app.session_state["turns"][-1]["answer"]
    assert answer.people_filter.source == "filters"
    assert all("Kovalev" in s.record.title for s in answer.sources) and answer.sources
    assert "People set in the sidebar: showing documents written by Kovalev, to Stalin." in captions(app)


def test_abstention_is_shown_as_such(app):
    ask(app, "Who was the first man to walk on the moon?")
    assistant = app.chat_message[1]
    assert "does not seem to cover this question" in assistant.info[0].value
    assert any(m.value.startswith("**Closest documents**") for m in assistant.markdown)
    assert not any("**\\[1\\]**" in m.value for m in assistant.markdown)  # no citation marker
    assert "Cite these sources" not in [e.label for e in assistant.expander]  # nothing offered for citation


# ---------------------------------------------------------------------------------------------- the date control


def test_the_date_control_limits_the_sources_in_the_answers_words(app):
    app.sidebar.checkbox(key="undated").uncheck().run()
    assert "Dated documents only." in [unescape(c.value) for c in app.sidebar.caption]
    app.sidebar.slider(key="years").set_value((1950, 1977)).run()
    assert "Showing documents from 1950 on." in [unescape(c.value) for c in app.sidebar.caption]
    ask(app, "What did the party secretaries say about Maoism?")
    answer = app.session_state["turns"][-1]["answer"]
    assert answer.applied_filter.source == "filters"
    assert answer.applied_filter.description == "showing documents from 1950 on"
    assert all(s.record.date and s.record.date >= "1950" for s in (*answer.sources, *answer.related))
    assert "Date filter set in the sidebar: showing documents from 1950 on." in captions(app)
    # Nothing from 1950 on answers this one (Filippov signs the 1949 cables): the page says so above the wider results.
    ask(app, "Who is Filippov?")
    answer = app.session_state["turns"][-1]["answer"]
    assert answer.notice and any(s.record.date < "1950" for s in answer.sources)
    assert unescape(app.chat_message[3].warning[0].value) == answer.notice


def test_a_date_read_from_the_question_shows_on_the_control_and_clears_with_it(app):
    ask(app, "What did Mikoyan and Mao Zedong discuss in 1949?")
    assert app.sidebar.slider(key="years").value == (1949, 1949)
    words = "Showing documents from 1949 (and undated ones), read from your question."
    assert words in [unescape(c.value) for c in app.sidebar.caption]
    assert "Date filter read from the question: showing documents from 1949 (and undated ones)." in captions(app)
    app.sidebar.button(key="clear_dates").click().run()
    assert not app.exception
    turns = app.session_state["turns"]
    assert len(turns) == 1  # asked again in place, not added
    assert turns[0]["answer"].applied_filter is None and turns[0]["filters"].infer_dates is False
    assert app.sidebar.slider(key="years").value == (1949, 1977)
    assert "Any date." in [unescape(c.value) for c in app.sidebar.caption]
    assert any("the date in the question was ignored" in c for c in captions(app))


def test_moving_the_control_back_to_every_year_clears_the_questions_date(app):
    ask(app, "What did Mikoyan and Mao Zedong discuss in 1949?")
    app.sidebar.slider(key="years").set_value((1949, 1977)).run()
    assert not app.exception
    assert app.session_state["turns"][0]["answer"].applied_filter is None
    assert "Any date." in [unescape(c.value) for c in app.sidebar.caption]


def test_a_new_question_without_a_date_gives_the_control_back(app):
    ask(app, "What did Mikoyan and Mao Zedong discuss in 1949?")
    ask(app, "Who is Filippov?")
    assert app.session_state["turns"][-1]["answer"].applied_filter is None  # the control's years were not applied
    assert app.sidebar.slider(key="years").value == (1949, 1977)


# ---------------------------------------------------------------------------------------------- conversations


def test_new_conversation_keeps_the_old_one(app):
    ask(app, QUESTION)
    first = app.query_params["conversation"]
    app.sidebar.button(key="new_conversation").click().run()
    assert not app.exception
    assert not app.chat_message and app.session_state["turns"] == []
    assert "conversation" not in app.query_params
    assert listed(app) == [first]  # kept, and listed: nothing was destroyed
    app.sidebar.button(key=f"open-{first}").click().run()
    assert app.query_params["conversation"] == first
    assert unescape(app.chat_message[0].markdown[0].value) == QUESTION


def test_a_link_reopens_its_conversation_in_a_new_session(app):
    ask(app, QUESTION)
    ask(app, "What about 1977?")
    cid = app.query_params["conversation"]
    again = session({"conversation": cid})  # a reload, or the link opened in another tab
    turns = again.session_state["turns"]
    assert [t["answer"].question for t in turns] == [QUESTION, "What about 1977?"]
    assert turns[1]["answer"].resolved_question == app.session_state["turns"][1]["answer"].resolved_question
    assert len(again.chat_message) == 4
    ask(again, "Who is Filippov?")  # the conversation goes on, read with the turns it reopened
    assert again.query_params["conversation"] == cid
    assert len(session({"conversation": cid}).session_state["turns"]) == 3


def test_a_long_conversation_shows_its_latest_turns_and_each_answer_draws_as_few(app, conversations):
    from app_pages.chat import RECENT_TURNS
    from qa.chat.conversations import ConversationStore

    ask(app, QUESTION)
    cid = app.query_params["conversation"]
    store = ConversationStore(conversations)
    (turn,) = store.turns(cid)
    for _ in range(299):  # a conversation of 300 turns
        store.add_turn(cid, turn)
    long = session({"conversation": cid})
    assert len(long.session_state["turns"]) == 300
    assert len(long.chat_message) == 2 * RECENT_TURNS  # the latest turns only, the newest last
    assert long.button(key="earlier").label == f"Show earlier questions ({300 - RECENT_TURNS} more)"
    ask(long, "What about 1977?")  # the page redrawn after the answer draws as many turns as before it
    assert len(long.session_state["turns"]) == 301 and len(long.chat_message) == 2 * RECENT_TURNS
    assert unescape(long.chat_message[-2].markdown[0].value) == "What about 1977?"
    long.button(key="earlier").click().run()
    assert len(long.chat_message) == 4 * RECENT_TURNS


def test_two_sessions_at_once_keep_their_own_conversations(shipped_env, conversations):
    one, two = session(), session()
    ask(one, QUESTION)
    ask(two, "Who is Filippov?")
    a, b = one.query_params["conversation"], two.query_params["conversation"]
    assert a != b
    one.run()
    assert set(listed(one)) == {a, b}  # on this loopback server, every conversation is listed
    # Both sessions now write to the same conversation, turn about.
    two.sidebar.button(key=f"open-{a}").click().run()
    ask(one, "What about 1977?")
    ask(two, "What did Mikoyan discuss?")
    with sqlite3.connect(conversations) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        count = db.execute("SELECT COUNT(*) FROM turns WHERE conversation = ?", (a,)).fetchone()[0]
    assert count == 3
    questions = [t["answer"].question for t in session({"conversation": a}).session_state["turns"]]
    assert questions == [QUESTION, "What about 1977?", "What did Mikoyan discuss?"]


def test_rename_and_delete_a_conversation(app):
    ask(app, QUESTION)
    cid = app.query_params["conversation"]
    app.text_input(key=f"title-{cid}").set_value("Stalin's advice on the economy").run()
    app.button(key="rename").click().run()
    assert not app.exception
    assert unescape(app.sidebar.button(key=f"open-{cid}").label).endswith(" · Stalin's advice on the economy")
    app.button(key="delete").click().run()
    assert listed(app) == [cid]  # asked first
    app.button(key="confirm_delete_no").click().run()
    assert listed(app) == [cid] and not [b for b in app.button if b.key == "confirm_delete_yes"]
    app.button(key="delete").click().run()
    app.button(key="confirm_delete_yes").click().run()
    assert not app.exception
    assert listed(app) == [] and app.session_state["turns"] == [] and "conversation" not in app.query_params
    app.button(key="undo_delete").click().run()  # brought back, under its own link
    assert listed(app) == [cid] and app.query_params["conversation"] == cid and len(app.session_state["turns"]) == 1
    app.button(key="delete").click().run()
    app.button(key="confirm_delete_yes").click().run()
    assert listed(app) == []
    gone = session({"conversation": cid})
    assert gone.session_state["turns"] == []
    assert "No conversation at this link" in unescape(gone.info[0].value)


def test_a_damaged_conversation_file_is_set_aside_not_fatal(shipped_env, conversations):
    conversations.parent.mkdir(parents=True)
    conversations.write_bytes(b"this is not an SQLite file " * 100)
    at = session()
    warning = unescape(at.sidebar.warning[0].value)
    assert "could not be read" in warning and "set aside as conversations.sqlite3.damaged-" in warning
    ask(at, QUESTION)  # and conversations are saved again, in a new file
    assert session({"conversation": at.query_params["conversation"]}).session_state["turns"]
    aside = list(conversations.parent.glob("conversations.sqlite3.damaged-*"))
    assert len(aside) == 1 and aside[0].read_bytes().startswith(b"this is not an SQLite file")


# ---------------------------------------------------------------------------------------------- privacy


def test_a_shared_server_without_sign_in_lists_nothing_and_opens_only_links(shipped_env, shared):
    mine = session()
    ask(mine, QUESTION)
    cid = mine.query_params["conversation"]
    mine.run()
    assert listed(mine) == []  # no list at all
    assert any("opened by their link" in c.value for c in mine.sidebar.caption)
    guessed = session({"conversation": "0123456789abcdef0123456789abcdef"})
    assert guessed.session_state["turns"] == [] and not guessed.chat_message
    assert "No conversation at this link" in unescape(guessed.info[0].value)
    assert listed(guessed) == []
    assert session({"conversation": "../../etc/passwd"}).session_state["turns"] == []
    link = session({"conversation": cid})  # its own link opens it
    assert [t["answer"].question for t in link.session_state["turns"]] == [QUESTION]


def test_a_shared_server_with_sign_in_lists_only_the_users_own(shipped_env, shared):
    def signed_in(email: str | None):
        from streamlit.testing.v1 import AppTest

        at = AppTest.from_file(APP, default_timeout=TIMEOUT)
        at.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32}
        at.user = {"is_logged_in": True, "email": email} if email else {"is_logged_in": False}
        at.run()
        assert not at.exception
        return at

    ana = signed_in("ana@example.org")
    ask(ana, QUESTION)
    bob = signed_in("bob@example.org")
    ask(bob, "Who is Filippov?")
    ana.run()
    bob.run()
    assert listed(ana) == [ana.query_params["conversation"]]
    assert listed(bob) == [bob.query_params["conversation"]]
    nobody = signed_in(None)
    assert listed(nobody) == [] and nobody.sidebar.button(key="sign_in")


# ---------------------------------------------------------------------------------------------- the browse page


def test_browse_lists_filters_and_opens_every_record(app):
    app.switch_page(BROWSE).run()
    assert not app.exception
    table = app.dataframe[0].value
    assert len(table) == 10 and list(table.columns)[:4] == ["Date", "Title", "From", "To"]
    app.text_input(key="browse_words").set_value("Kovalev").run()
    titles = list(app.dataframe[0].value["Title"])
    assert titles and all("Kovalev" in t for t in titles)
    app.text_input(key="browse_words").set_value("").run()
    app.selectbox(key="browse_undated").set_value("only").run()
    assert list(app.dataframe[0].value["Title"]) == ["CC CPSU Information on Chinese Foreign Policy Issues"]
    app.selectbox(key="browse_undated").set_value("with").run()
    app.slider(key="browse_years").set_value((1963, 1977)).run()
    assert list(app.dataframe[0].value["Date"]) == ["1963-07-04", "1977-03-02", ""]
    app.selectbox(key="browse_person").set_value("Kovalev").run()
    assert list(app.dataframe[0].value["Date"]) == []  # Kovalev wrote in 1949
    status = unescape(" ".join(c.value for c in app.sidebar.caption))
    assert "10 records · model all-MiniLM-L6-v2 · built" in status and "Index up to date" in status


def test_browse_charts_the_documents_per_year(app):
    import pyarrow as pa

    app.switch_page(BROWSE).run()
    charts = [e for e in app.main if getattr(e, "type", None) == "vega_lite_chart"]
    assert len(charts) == 1
    table = pa.ipc.open_stream(charts[0].proto.data.data).read_all().to_pydict()
    assert table["year"] == list(range(1949, 1978))  # a true time axis: years without documents are there, as 0
    counts = dict(zip(table["year"], table["documents"], strict=True))
    assert (counts[1949], counts[1963], counts[1977]) == (7, 1, 1)


# ---------------------------------------------------------------------------------------------- the index


@pytest.fixture
def own_index(tmp_path, shipped_config, embedder, conversations, monkeypatch):
    """A corpus copy with its own index, which the test may change or rebuild."""
    from qa.config import Config
    from qa.index.build import build_index

    shutil.copytree(SHIPPED_CORPUS, tmp_path / "corpus")
    config = Config(corpus=tmp_path / "corpus", index=tmp_path / "index", cache=shipped_config.cache)
    build_index(config, embedder=embedder)
    monkeypatch.setenv("ARCHIVE_QA_CORPUS", str(config.corpus))
    monkeypatch.setenv("ARCHIVE_QA_INDEX", str(config.index_dir))
    monkeypatch.setenv("ARCHIVE_QA_CACHE", str(config.cache))
    return config


def test_stale_index_is_reported_and_rebuilt_from_the_page(own_index):
    extra = own_index.corpus / "extra.jsonl"
    extra.write_text(
        '{"title": "Note on the Sino-Soviet border talks", "date": "1969-10-20", '
        '"summary": "Soviet and Chinese delegations meet in Beijing to discuss the disputed border."}\n',
        encoding="utf-8",
    )
    at = session()
    warning = unescape(at.warning[0].value)
    assert "The index cannot be used as it is." in warning
    assert "The corpus changed since the index was built (added extra.jsonl)" in warning
    assert at.chat_input[0].proto.disabled

    at.button(key="rebuild_main").click().run()
    assert not at.exception
    assert not at.warning
    assert unescape(at.status[0].label).startswith("Index built: 11 records (1 embedded, 10 reused, 0 removed)")
    ask(at, "What happened at the border talks in 1969?")
    answer = at.session_state["turns"][-1]["answer"]
    assert answer.sources[0].record.title == "Note on the Sino-Soviet border talks"


def test_the_browse_page_shows_the_index_and_rebuilds_it(own_index, tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHIVE_QA_INDEX", str(tmp_path / "no-index-yet"))
    at = session()
    assert "No index in" in unescape(at.warning[0].value)
    at.switch_page(BROWSE).run()
    assert not at.exception
    assert "No usable index" in [c.value for c in at.sidebar.caption]
    at.sidebar.button(key="rebuild_browse").click().run()
    assert not at.exception
    assert (tmp_path / "no-index-yet" / "current").exists()
    assert "10 records" in " ".join(c.value for c in at.sidebar.caption)
    assert len(at.dataframe[0].value) == 10
