"""The chat app (`make run`, or `streamlit run app.py`): two pages, Ask (app_pages/chat.py) and Browse
(app_pages/browse.py), with what they share in app_pages/common.py.

Layout only: answering, filtering, index checks, conversations, citations and every text shown come from qa/.
Corpus and user text is only ever shown escaped (qa.chat.text.escape_markdown) or as code, never as HTML.
The corpus, the index and the conversation file come from ARCHIVE_QA_* environment variables (qa.config.Config).
"""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="Archive QA", page_icon="📜", layout="centered")
# Fixed styles, never corpus or user text: room for the copy button beside a citation; no chart toolbar ("Copy
# Vega-Lite spec") on an answer's timeline.
STYLE = """<style>
[data-testid="stCode"] pre { padding-right: 3rem; }
[data-testid="stChatMessage"] [data-testid="stElementToolbar"] { display: none; }
</style>"""
# Fixed script, never corpus or user text: Tab from the skip link goes to the question box (the sidebar comes first
# in the page); a card opened keeps its header in view while its content is drawn below it.
KEYS = """<script>
if (!window.__archiveQaKeys) {
  window.__archiveQaKeys = true;
  const doc = window.parent.document;
  doc.addEventListener('keydown', e => {
    if (e.key !== 'Tab' || e.shiftKey || !doc.activeElement.matches('[data-testid="stSkipToContent"]')) return;
    const box = doc.querySelector('[data-testid="stChatInput"] textarea');
    if (box) { e.preventDefault(); box.focus(); }
  }, true);
  doc.addEventListener('toggle', e => {
    const summary = e.target.querySelector && e.target.querySelector('summary');
    if (!summary || !e.target.open) return;
    const keep = () => {
      const r = summary.getBoundingClientRect();
      const header = doc.querySelector('[data-testid="stHeader"]');
      const box = doc.querySelector('[data-testid="stBottom"]');
      const top = header ? header.getBoundingClientRect().bottom : 0;
      const bottom = box ? box.getBoundingClientRect().top : window.parent.innerHeight;
      if (r.top < top || r.bottom > bottom) summary.scrollIntoView({block: 'center'});
    };
    for (const ms of [100, 400, 900, 1500]) setTimeout(keep, ms);
  }, true);
}
</script>"""
st.html(STYLE)
st.html(KEYS, unsafe_allow_javascript=True)
pages = [
    st.Page("app_pages/chat.py", title="Ask", default=True),
    st.Page("app_pages/browse.py", title="Browse", url_path="browse"),
]
st.navigation(pages, position="top").run()
