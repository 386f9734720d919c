"""The chat app (`make run`, or `streamlit run app.py`): two pages, Ask (app_pages/chat.py) and Browse
(app_pages/browse.py), with what they share in app_pages/common.py.

Layout only: answering, filtering, index checks, conversations, citations and every text shown come from qa/.
Corpus and user text is only ever shown escaped (qa.chat.text.escape_markdown) or as code, never as HTML.
The corpus, the index and the conversation file come from ARCHIVE_QA_* environment variables (qa.config.Config).
"""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="Archive QA", page_icon="📜", layout="centered")
pages = [
    st.Page("app_pages/chat.py", title="Ask", icon=":material/forum:", default=True),
    st.Page("app_pages/browse.py", title="Browse", icon=":material/table_rows:", url_path="browse"),
]
st.navigation(pages, position="top").run()
