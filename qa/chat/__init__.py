"""Everything the chat app shows that is not Streamlit: saved conversations (`conversations`), archive-style
citations and their RIS / CSL-JSON / BibTeX exports (`citations`), the collection at a glance, its settings and
the browse table (`collection`), and corpus and user text made safe to show as Markdown, with a conversation's
exports and the questions to ask next (`text`).
"""
