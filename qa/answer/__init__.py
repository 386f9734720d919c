"""The answers: a question (and the conversation so far) in, a cited answer or an honest abstention out.

It owns reading a question (`forms`: its form, people and topic; `dates`: its date range), choosing the records
and the summary sentences that answer it (`compose`, `sentences`), the lead line built from the cited records'
fields (`leads`), and the `Assistant` that puts them together. It searches through `qa.index` and never builds.
"""

from qa.answer.assistant import Assistant

__all__ = ["Assistant"]
