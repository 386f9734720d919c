"""What a record is embedded and searched by words as, and the embedder a configuration names: shared by the build
and the search."""

from __future__ import annotations

from embeddings.hashing import HashingEmbedder, is_hashing
from embeddings.model import Embedder
from qa.config import Config
from qa.records import Record


def embedded_text(record: Record) -> str:
    """What is embedded for a record: "title · date · summary", or the title alone when there is no summary."""
    if not record.summary:
        return record.title
    parts = [record.title] + ([record.display_date] if record.date else []) + [record.summary]
    return " · ".join(parts)


def lexical_text(record: Record) -> str:
    """What is searched by words for a record: "title · date · summary", its date as shown ("undated" for a
    record without one, so a question about the undated documents finds them by that word)."""
    return " · ".join(p for p in (record.title, record.display_date, record.summary) if p)


def default_embedder(config: Config) -> Embedder:
    """The configured model, with its question path as configured (`hashing:<dim>` is the model-free one)."""
    if is_hashing(config.model):
        return HashingEmbedder(config.model)
    return Embedder(
        config.model,
        query_backend=config.query_backend,
        cache=config.cache,
        encoder=config.encoder,
        device=config.device,
    )
