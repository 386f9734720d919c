"""The one error base class of the project: a problem the user can fix, told in one line.

It lives in the lowest layer (embeddings) so that every layer above can raise it; `qa.errors` re-exports it.
"""

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
