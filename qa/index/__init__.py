"""The index: records embedded into FAISS segments beside a lexical index and a people index, built atomically and
searched by meaning, by words, or both.

It owns loading and searching (`search`: `ArchiveIndex`, `Query`, `Hit`, `DateFilter`), what a record is embedded
as and the embedder a configuration names (`encoding`), the word analyzer and BM25 postings (`lexical`), the people
read from titles (`people`), and the build folder's files (`manifest`, `store`, `segments`). Building and updating
an index (`build`, `reuse`) is its write side: import `qa.index.build` for it; loading and searching never do.
"""

from qa.index.encoding import default_embedder, embedded_text
from qa.index.search import CANDIDATES, ArchiveIndex, DateFilter, Hit, Query, current_build

__all__ = [
    "CANDIDATES",
    "ArchiveIndex",
    "DateFilter",
    "Hit",
    "Query",
    "current_build",
    "default_embedder",
    "embedded_text",
]
