"""The chat page with the answers' own rules: the question's date beats the sidebar's (said once), an overview."""

from __future__ import annotations

from tests.app.test_app import app, ask, captions, conversations, shipped_env  # noqa: F401 - fixtures used by name


def test_the_questions_date_beats_the_sidebars_and_one_line_says_so(app):  # noqa: F811
    app.sidebar.slider(key="years").set_value((1963, 1977)).run()
    ask(app, "What happened in 1949?")
    answer = app.session_state["turns"][-1]["answer"]
    assert answer.applied_filter.source == "question" and answer.sources
    assert all(s.record.date.startswith("1949") for s in answer.sources)
    assert len([c for c in captions(app) if "replace the filters' for this question" in c]) == 1


def test_summarise_the_collection_answers_with_every_document(app):  # noqa: F811
    ask(app, "Summarise the collection")
    answer = app.session_state["turns"][-1]["answer"]
    assert answer.form == "overview" and not answer.abstained and len(answer.sources) == 10
