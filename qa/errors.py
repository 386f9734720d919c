"""Every error a user can cause is an `ArchiveQAError`: one line, the command that fixes it, exit status 2."""

from __future__ import annotations


class ArchiveQAError(Exception):
    """A problem the user can cause and fix: a one-line message and, where one helps, the command that fixes it."""

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message}: run `{self.fix}`" if self.fix else self.message


class ModelError(ArchiveQAError):
    """A model that cannot be loaded here, with what to do about it."""


RAY_INSTALL = "pip install 'archive-qa[ray]'"


class EngineError(ArchiveQAError):
    """The Ray engine cannot run: Ray is not installed (RAY_INSTALL installs it), or its cluster cannot be reached."""


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


__all__ = [
    "RAY_INSTALL",
    "AliasError",
    "ArchiveQAError",
    "ConfigError",
    "DataError",
    "EngineError",
    "IndexProblem",
    "ModelError",
    "QuestionError",
]
