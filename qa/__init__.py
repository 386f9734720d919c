"""Archive QA: cited answers drawn only from an archival collection's summaries.

Four subpackages, each lower one unaware of those above it: `qa.corpus` reads the collection's files into
records, `qa.index` builds and searches the index, `qa.answer` answers questions, `qa.chat` holds what the app
shows. Beside them, what every layer shares: `config` (the one `Config`), `records` (`Record` and dates),
`types` (`Filters`, `Answer` and its parts), `errors` (the base error class and its kinds), `shared` (words,
sentences, file digests) and `runtime` (process start-up).
"""

from qa.config import Config
from qa.records import Record

__all__ = ["Config", "Record"]
