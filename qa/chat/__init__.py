"""Everything the chat app shows that is not Streamlit: saved conversations (`conversations`), archive-style
citations and their RIS / CSL-JSON exports (`citations`), the collection at a glance and the browse table
(`collection`), and corpus and user text made safe to show as Markdown (`text`).
"""
