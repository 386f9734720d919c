"""The corpus reader: the collection's files (listing and document pages, JSON Lines and CSV exports) into records.

It owns recognising what a file is (`scan`), reading pages by layout (`layouts`, `listings`, `docpages`, `html`,
`lines`, `furniture`), exports field by field (`exports`), settling ids (`ids`), reading correspondents from titles
(`correspondents`) and showing what was read (`show`). Nothing here knows of vectors, indexes or questions.
"""

from qa.corpus.exports import DERIVED_FIELDS, FIELDS
from qa.corpus.raw import Problem
from qa.corpus.reader import Corpus, corpus_files, load_corpus
from qa.corpus.scan import FORMATS, collection_name
from qa.corpus.show import format_records, record_rows

__all__ = [
    "DERIVED_FIELDS",
    "FIELDS",
    "FORMATS",
    "Corpus",
    "Problem",
    "collection_name",
    "corpus_files",
    "format_records",
    "load_corpus",
    "record_rows",
]
