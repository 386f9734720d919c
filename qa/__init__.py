"""Archive QA: cited answers drawn only from an archival collection's summaries."""

from qa.config import Config
from qa.records import Record

__all__ = ["Config", "Record"]
