"""Every error a user can cause is an `ArchiveQAError`: one line, the command that fixes it, exit status 2."""

from __future__ import annotations

from embeddings.errors import ArchiveQAError, ModelError


class ConfigError(ArchiveQAError):
    """A setting that cannot be used, named by its field or environment variable."""


class IndexProblem(ArchiveQAError):
    """An index that cannot be used as it is: the message says why, `fix` what to run."""


class AliasError(ArchiveQAError):
    """An alias file that cannot be read, pinned to its file and line."""


class QuestionError(ArchiveQAError):
    """A question or its filters that cannot be used (a bad date, an impossible number of sources)."""


class DataError(ArchiveQAError):
    """A question set, report or dataset file that cannot be read."""


__all__ = ["AliasError", "ArchiveQAError", "ConfigError", "DataError", "IndexProblem", "ModelError", "QuestionError"]
