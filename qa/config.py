"""Every setting in one place: each a `Config` field with its environment variable, parser and one line of help.

Values come from the defaults, then the environment (`Config.from_env`), then flags (`with_overrides`).
Nothing else in the project reads the environment for a setting.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from urllib.parse import urlsplit

from qa.errors import ConfigError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
MODES = ("hybrid", "dense", "bm25")
INDEX_KINDS = ("auto", "flat", "hnsw", "ivfpq")
VECTOR_DTYPES = ("auto", "float32", "float16")
QUERY_BACKENDS = ("onnx", "torch")
ENCODERS = ("onnx", "onnx-int8", "torch")
ENGINES = ("local", "ray")
DEVICES = ("cpu", "cuda")
MAX_K = 100


def _any(value: object) -> None:
    """Every value of the field's type will do."""


@dataclass(frozen=True, slots=True)
class Setting:
    """How one field is set from outside: its environment variable, the converter of its text, its help line,
    and the check every value of it passes (from the environment, a flag or code)."""

    env: str
    convert: Callable[[str], object]
    help: str
    check: Callable[[object], None] = _any

    def parse(self, text: str) -> object:
        """The field's value from its text; ValueError says what is wrong with it."""
        value = self.convert(text)
        self.check(value)
        return value


def _whole(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number") from None


def _between(least: int, most: int | None = None) -> Callable[[object], None]:
    def check(value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < least or (most and value > most):
            bounds = f"between {least} and {most}" if most else f"at least {least}"
            raise ValueError(f"{value!r} must be {bounds}")

    return check


def _one_of(options: tuple[str, ...]) -> Callable[[object], None]:
    def check(value: object) -> None:
        if value not in options:
            raise ValueError(f"{value!r} is not one of {', '.join(options)}")

    return check


def _weights(text: str) -> AnswerWeights:
    count = len(fields(AnswerWeights))
    try:
        values = [float(p) for p in text.split(",")]
    except ValueError:
        values = []
    if len(values) != count or not all(math.isfinite(v) for v in values):
        raise ValueError(f"{text!r} is not {count} numbers separated by commas")
    return AnswerWeights(*values)


def _seconds(text: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a number of seconds") from None
    return value


def _positive(value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{value!r} must be a number of seconds above 0")


def _path(text: str) -> Path:
    return Path(text).expanduser()


def _setting(
    default: object,
    env: str,
    convert: Callable[[str], object],
    help: str,
    check: Callable[[object], None] = _any,
    *,
    factory: bool = False,
    secret: bool = False,
):
    meta = {"setting": Setting(f"ARCHIVE_QA_{env}", convert, help, check)}
    if factory:
        return field(default_factory=default, metadata=meta)  # type: ignore[arg-type]
    return field(default=default, metadata=meta, repr=not secret)


def default_cache() -> Path:
    """The user's cache folder for Archive QA: $XDG_CACHE_HOME/archive-qa, else ~/.cache/archive-qa."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "archive-qa"


def default_conversations() -> Path:
    """Where the chat app keeps conversations: $XDG_DATA_HOME/archive-qa, else ~/.local/share/archive-qa."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "archive-qa" / "conversations.sqlite3"


def _web_address(text: str) -> str:
    text = text.strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{text!r} is not an http(s) address")
    return text


def _no_or_web_address(value: object) -> None:
    if value is not None:
        _web_address(str(value))


@dataclass(frozen=True, slots=True)
class AnswerWeights:
    """How a summary sentence is scored for an answer (see qa.answer.assistant): the weights of its five signals."""

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

    corpus: Path = _setting(Path("corpus"), "CORPUS", _path, "the corpus folder")
    index: Path | None = _setting(None, "INDEX", _path, "the index folder (default: index/ beside the corpus folder)")
    model: str = _setting(DEFAULT_MODEL, "MODEL", str, "sentence-transformers model name or local folder")
    k: int = _setting(5, "K", _whole, f"documents to consider for an answer (1 to {MAX_K})", _between(1, MAX_K))
    mode: str = _setting("hybrid", "MODE", str, "search by meaning (dense), by words (bm25) or both", _one_of(MODES))
    index_kind: str = _setting(
        "auto", "INDEX_KIND", str, "flat (exact), hnsw, ivfpq (past RAM), or auto by size", _one_of(INDEX_KINDS)
    )
    vector_dtype: str = _setting(
        "auto", "VECTOR_DTYPE", str, "vectors stored as float32, float16, or auto (float16 when approximate)",
        _one_of(VECTOR_DTYPES),
    )
    hnsw_threshold: int = _setting(
        50_000, "HNSW_THRESHOLD", _whole, "records above which `auto` builds HNSW", _between(1)
    )
    aliases: Path | None = _setting(None, "ALIASES", _path, "an extra alias file (TSV) added to the shipped one")
    query_backend: str = _setting("onnx", "QUERY_BACKEND", str, "runtime encoding questions", _one_of(QUERY_BACKENDS))
    encoder: str = _setting(
        "onnx-int8", "ENCODER", str, "runtime encoding the index's records: onnx-int8 (all cores), onnx, torch",
        _one_of(ENCODERS),
    )
    device: str = _setting(
        "cpu", "DEVICE", str, "where the torch encoder runs: cpu, or cuda (with --engine ray: a GPU an actor)",
        _one_of(DEVICES),
    )
    engine: str = _setting(
        "local", "ENGINE", str, "where the index's records are encoded: here (local) or on a Ray cluster (ray)",
        _one_of(ENGINES),
    )
    ray_address: str | None = _setting(
        None, "RAY_ADDRESS", str, "the Ray cluster to join with --engine ray (default: RAY_ADDRESS, else a local one)"
    )
    cache: Path = _setting(default_cache, "CACHE", _path, "cache folder (the model's ONNX export)", factory=True)
    answer_weights: AnswerWeights = _setting(
        AnswerWeights(), "ANSWER_WEIGHTS", _weights, "five comma-separated weights scoring answer sentences"
    )
    conversations: Path = _setting(
        default_conversations, "CONVERSATIONS", _path, "the chat app's saved conversations (an SQLite file)",
        factory=True,
    )
    archive_url: str | None = _setting(
        None, "ARCHIVE_URL", _web_address, "the archive's web address, searched for records without a link"
    )
    llm_url: str | None = _setting(
        None, "LLM_URL", _web_address,
        "an OpenAI-compatible model server (e.g. http://localhost:11434/v1): turns on written answers",
        _no_or_web_address,
    )
    llm_model: str = _setting("", "LLM_MODEL", str, "the model the server writes with (default: the first it lists)")
    llm_key: str | None = _setting(None, "LLM_KEY", str, "the model server's API key, if it wants one", secret=True)
    llm_timeout: float = _setting(
        60.0, "LLM_TIMEOUT", _seconds, "seconds a written answer may take before the quoted one is shown", _positive
    )

    @property
    def index_dir(self) -> Path:
        """The index folder: as set, else `index/` beside the corpus folder."""
        return self.index if self.index is not None else self.corpus.resolve().parent / "index"

    def validate(self) -> Config:
        """This configuration, or ConfigError naming the first field that cannot be used."""
        for f in fields(self):
            try:
                f.metadata["setting"].check(getattr(self, f.name))
            except ValueError as exc:
                raise ConfigError(f"{f.name}: {exc}") from None
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
