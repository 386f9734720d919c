"""One configuration object: paths, model, retrieval settings; defaults, then environment, then flags."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

DEFAULT_MODEL = "all-MiniLM-L6-v2"
MODES = ("hybrid", "dense", "bm25")
INDEX_KINDS = ("auto", "flat", "hnsw")

_ENV = {
    "corpus": "ARCHIVE_QA_CORPUS",
    "index": "ARCHIVE_QA_INDEX",
    "model": "ARCHIVE_QA_MODEL",
    "k": "ARCHIVE_QA_K",
    "mode": "ARCHIVE_QA_MODE",
    "index_kind": "ARCHIVE_QA_INDEX_KIND",
    "aliases": "ARCHIVE_QA_ALIASES",
}


class ConfigError(ValueError):
    """A setting that cannot be used, named by its field."""


@dataclass(frozen=True, slots=True)
class Config:
    """Where the collection and its index live, which model embeds it, how answers are retrieved."""

    corpus: Path = Path("corpus")
    index: Path | None = None
    model: str = DEFAULT_MODEL
    k: int = 5
    mode: str = "hybrid"
    index_kind: str = "auto"
    hnsw_threshold: int = 50_000
    aliases: Path | None = None

    @property
    def index_dir(self) -> Path:
        """The index folder: as set, else `index/` beside the corpus folder."""
        return self.index if self.index is not None else self.corpus.resolve().parent / "index"

    def validate(self) -> Config:
        if self.mode not in MODES:
            raise ConfigError(f"mode: {self.mode!r} is not one of {', '.join(MODES)}")
        if self.index_kind not in INDEX_KINDS:
            raise ConfigError(f"index_kind: {self.index_kind!r} is not one of {', '.join(INDEX_KINDS)}")
        if not 1 <= self.k <= 100:
            raise ConfigError(f"k: {self.k} must be between 1 and 100")
        return self

    def with_overrides(self, **values: object) -> Config:
        """A copy with every value that is not None replaced."""
        return replace(self, **{k: v for k, v in values.items() if v is not None}).validate()

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Config:
        """Defaults, then ARCHIVE_QA_* environment variables, then the given overrides."""
        environ = os.environ if environ is None else environ
        types = {f.name: f.type for f in fields(cls)}
        values: dict[str, object] = {}
        for name, var in _ENV.items():
            raw = environ.get(var)
            if not raw:
                continue
            if "int" in str(types[name]):
                try:
                    values[name] = int(raw)
                except ValueError:
                    raise ConfigError(f"{var}: {raw!r} is not a whole number") from None
            elif "Path" in str(types[name]):
                values[name] = Path(raw)
            else:
                values[name] = raw
        return cls(**values).with_overrides(**overrides)
