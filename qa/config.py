"""Every setting in one place: each a `Config` field with its environment variable, parser and one line of help.

Values come from the defaults, then the environment (`Config.from_env`), then flags (`with_overrides`).
Nothing else in the project reads the environment for a setting.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from qa.errors import ConfigError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
MODES = ("hybrid", "dense", "bm25")
INDEX_KINDS = ("auto", "flat", "hnsw")
QUERY_BACKENDS = ("onnx", "torch")
MAX_K = 100


@dataclass(frozen=True, slots=True)
class Setting:
    """How one field is set from outside: its environment variable, the parser of its text, its help line."""

    env: str
    parse: Callable[[str], object]
    help: str


def _whole(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number") from None


def _choice(options: tuple[str, ...]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in options:
            raise ValueError(f"{text!r} is not one of {', '.join(options)}")
        return text

    return parse


def _weights(text: str) -> AnswerWeights:
    parts = [p.strip() for p in text.split(",")]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise ValueError(f"{text!r} is not {len(fields(AnswerWeights))} numbers separated by commas") from None
    if len(values) != len(fields(AnswerWeights)):
        raise ValueError(f"{text!r} is not {len(fields(AnswerWeights))} numbers separated by commas")
    return AnswerWeights(*values)


def _setting(default: object, env: str, parse: Callable[[str], object], help: str, *, factory: bool = False):
    meta = {"setting": Setting(f"ARCHIVE_QA_{env}", parse, help)}
    if factory:
        return field(default_factory=default, metadata=meta)  # type: ignore[arg-type]
    return field(default=default, metadata=meta)


def default_cache() -> Path:
    """The user's cache folder for Archive QA: $XDG_CACHE_HOME/archive-qa, else ~/.cache/archive-qa."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "archive-qa"


@dataclass(frozen=True, slots=True)
class AnswerWeights:
    """How a summary sentence is scored for an answer (see qa.assistant): the weights of its five signals."""

    sentence_and_title: float = 0.35  # share of the question's word weight found in the sentence or the title
    sentence: float = 0.3  # share of the question's word weight found in the sentence alone
    retrieval: float = 0.15  # the record's fused retrieval score relative to the best record's
    similarity: float = 0.2  # the record's cosine similarity to the question
    first_sentence: float = 0.03  # a bonus for a summary's first sentence

    def __str__(self) -> str:
        return ",".join(f"{getattr(self, f.name):g}" for f in fields(self))


@dataclass(frozen=True, slots=True)
class Config:
    """Where the collection and its index live, which model embeds it, how answers are retrieved and scored."""

    corpus: Path = _setting(Path("corpus"), "CORPUS", Path, "the corpus folder")
    index: Path | None = _setting(None, "INDEX", Path, "the index folder (default: index/ beside the corpus folder)")
    model: str = _setting(DEFAULT_MODEL, "MODEL", str, "sentence-transformers model name or local folder")
    k: int = _setting(5, "K", _whole, f"documents to consider for an answer (1 to {MAX_K})")
    mode: str = _setting("hybrid", "MODE", _choice(MODES), "search by meaning (dense), by words (bm25) or both")
    index_kind: str = _setting("auto", "INDEX_KIND", _choice(INDEX_KINDS), "flat (exact), hnsw, or auto by size")
    hnsw_threshold: int = _setting(50_000, "HNSW_THRESHOLD", _whole, "records above which `auto` builds HNSW")
    aliases: Path | None = _setting(None, "ALIASES", Path, "an extra alias file (TSV) added to the shipped one")
    query_backend: str = _setting("onnx", "QUERY_BACKEND", _choice(QUERY_BACKENDS), "runtime encoding questions")
    cache: Path = _setting(default_cache, "CACHE", Path, "cache folder (the model's ONNX export)", factory=True)
    answer_weights: AnswerWeights = _setting(
        AnswerWeights(), "ANSWER_WEIGHTS", _weights, "five comma-separated weights scoring answer sentences"
    )

    @property
    def index_dir(self) -> Path:
        """The index folder: as set, else `index/` beside the corpus folder."""
        return self.index if self.index is not None else self.corpus.resolve().parent / "index"

    def validate(self) -> Config:
        """This configuration, or ConfigError naming the first field that cannot be used."""
        for name, options in (("mode", MODES), ("index_kind", INDEX_KINDS), ("query_backend", QUERY_BACKENDS)):
            if getattr(self, name) not in options:
                raise ConfigError(f"{name}: {getattr(self, name)!r} is not one of {', '.join(options)}")
        if not 1 <= self.k <= MAX_K:
            raise ConfigError(f"k: {self.k} must be between 1 and {MAX_K}")
        if self.hnsw_threshold < 1:
            raise ConfigError(f"hnsw_threshold: {self.hnsw_threshold} must be at least 1")
        return self

    def with_overrides(self, **values: object) -> Config:
        """A copy with every value that is not None replaced."""
        return replace(self, **{k: v for k, v in values.items() if v is not None}).validate()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Config:
        """Defaults, then ARCHIVE_QA_* environment variables, then the given overrides."""
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            setting: Setting = f.metadata["setting"]
            raw = environ.get(setting.env)
            if not raw:
                continue
            try:
                values[f.name] = setting.parse(raw)
            except ValueError as exc:
                raise ConfigError(f"{setting.env}: {exc}") from None
        return cls(**values).with_overrides(**overrides)

    @classmethod
    def settings(cls) -> dict[str, Setting]:
        """Each field's name with how it is set: for the README and `--help`."""
        return {f.name: f.metadata["setting"] for f in fields(cls)}
