"""What both pages of the chat app share: the model, index, assistant and conversation store, loaded once per server
process; the configuration; the index rebuild; who may see which conversations; a record's card.

Layout only: every decision and every text shown comes from qa/ (qa.chat: text, collection, citations,
conversations). Corpus and user text is only ever shown escaped (qa.chat.text.escape_markdown) or as code, never
as HTML.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from qa import runtime
from qa.answer import Assistant
from qa.chat.citations import Citing, record_link
from qa.chat.collection import BrowseTable, Overview, browse_table, collection_settings, example_questions, overview
from qa.chat.conversations import Access, ConversationStore, access
from qa.chat.text import (
    correspondents_line,
    escape_markdown,
    first_upper,
    full_text_markdown,
    link_markdown,
    listing_line,
    passage_markdown,
    record_meta,
    summary_markdown,
)
from qa.config import Config
from qa.errors import ArchiveQAError
from qa.index import ArchiveIndex, default_embedder
from qa.index.build import build_index
from qa.index.manifest import CURRENT
from qa.records import Record

CHAT_PAGE = "app_pages/chat.py"
BROWSE_PAGE = "app_pages/browse.py"


# ---------------------------------------------------------------------------------------------- loading, once


@st.cache_resource(show_spinner=False)
def start() -> None:
    """Process-wide settings (offline model hub, search threads), once per server process."""
    runtime.start()


def config() -> Config:
    """The configuration from the ARCHIVE_QA_* environment; a page that cannot use it says why and stops."""
    try:
        return Config.from_env()
    except ArchiveQAError as exc:
        st.error(escape_markdown(f"The configuration cannot be used: {exc}"))
        st.stop()


@st.cache_resource(show_spinner=False)
def load_embedder(model_key: str, _config: Config):
    """The configured model (the key names model, question backend and cache)."""
    return default_embedder(_config)


def embedder(config: Config):
    """The configured model, loaded once per process."""
    return load_embedder(f"{config.model}|{config.query_backend}|{config.cache}", config)


@st.cache_resource(show_spinner=False, max_entries=4)
def load_index(key: str, _config: Config) -> ArchiveIndex:
    """The index of one build (the key names it); staleness is checked on every run, not here."""
    return ArchiveIndex.load(_config, check_stale=False)


@st.cache_resource(show_spinner=False, max_entries=4)
def load_assistant(key: str, _config: Config) -> Assistant:
    """The assistant over one build, warmed up: the first question of the process pays nothing extra."""
    assistant = Assistant(_config, index=load_index(key, _config), embedder=embedder(_config))
    assistant.warm_up()
    # Streamlit collects garbage after every run, and a question's callback ends one run before the chat fragment's
    # starts: with PyTorch loaded a full collection takes ~300 ms. The objects loaded so far live as long as the
    # process, so they are moved out of the collector's sight (later ones, such as answers, are still collected).
    gc.freeze()
    return assistant


@st.cache_resource(show_spinner=False, max_entries=4)
def load_overview(key: str, _index: ArchiveIndex, archive_url: str | None) -> Overview:
    """The collection at a glance, read once per build."""
    return overview(_index, archive_url)


@st.cache_resource(show_spinner=False, max_entries=4)
def load_examples(key: str, _assistant: Assistant) -> list[str]:
    """The example questions offered for one build."""
    return example_questions(_assistant)


@st.cache_resource(show_spinner=False, max_entries=2)
def load_table(key: str, _index: ArchiveIndex) -> BrowseTable:
    """Every record as the browse page's table, read once per build."""
    return browse_table(_index)


@st.cache_resource(show_spinner=False)
def load_store(path: str) -> ConversationStore:
    """The conversation store, opened (and checked) once per server process and file."""
    return ConversationStore(path)


def store(config: Config) -> ConversationStore:
    return load_store(str(config.conversations))


def citing(config: Config) -> Citing:
    """How the collections are cited (their collection.toml); a bad settings file is named in one line and the
    citations fall back to the folder names."""
    try:
        return Citing(collection_settings(config.corpus))
    except ArchiveQAError as exc:
        st.error(escape_markdown(f"The collection settings cannot be used: {exc}"))
        return Citing()


def build_key(config: Config) -> str:
    """Names the configuration and the index build in use, so a rebuild elsewhere is picked up."""
    return f"{config!r}|{os.path.realpath(config.index_dir / CURRENT)}"


def open_index(key: str, config: Config) -> tuple[Overview | None, str | None]:
    """The collection's overview, and the one line that keeps its index from being used (or None)."""
    try:
        index = load_index(key, config)
        return load_overview(key, index, config.archive_url), index.stale_problem()
    except ArchiveQAError as exc:
        return None, str(exc)


def index_or_none(key: str, config: Config) -> ArchiveIndex | None:
    try:
        return load_index(key, config)
    except ArchiveQAError:
        return None


# ---------------------------------------------------------------------------------------------- the index rebuild


def request_rebuild() -> None:
    st.session_state.rebuild = True


def rebuild(config: Config, where=st) -> None:
    """Build the index from the corpus with its progress shown, then forget the cached index and what hangs on it."""
    with where.status("Rebuilding the index…", expanded=True) as status:
        bar = st.progress(0.0, text="Loading the model…")

        def progress(done: int, total: int) -> None:
            bar.progress(done / max(total, 1), text=f"Embedded {done:,} of {total:,} new and changed records…")

        try:
            report = build_index(config, embedder=embedder(config), progress=progress)
        except ArchiveQAError as exc:
            status.update(label="The index could not be rebuilt", state="error")
            st.error(escape_markdown(first_upper(str(exc))))
            return
        bar.progress(1.0, text="Done.")
        for cached in (load_index, load_assistant, load_overview, load_examples, load_table):
            cached.clear()
        status.update(label=escape_markdown(first_upper(str(report))), state="complete", expanded=False)


# ---------------------------------------------------------------------------------------------- who sees what


def auth_configured() -> bool:
    """Whether Streamlit's built-in sign-in (st.login, OIDC) is configured: an [auth] section in the secrets."""
    try:
        return "auth" in st.secrets
    except FileNotFoundError:  # no secrets file at all
        return False


def signed_in_user() -> str | None:
    """The signed-in user's e-mail (else subject), when someone is signed in."""
    if not st.user.get("is_logged_in", False):
        return None
    return str(st.user.get("email") or st.user.get("sub") or "") or None


def who_sees_what() -> Access:
    """The privacy rule (qa.chat.conversations.access) for this server's address and this session's user."""
    configured = auth_configured()
    return access(st.get_option("server.address"), configured, signed_in_user() if configured else None)


# ---------------------------------------------------------------------------------------------- a record's card


@dataclass(frozen=True, slots=True)
class Reading:
    """What a card needs beyond its record: the words to highlight and the archive's address for search links."""

    wanted: Callable[[str], bool]  # is this word one of the question's?
    archive: str


def record_card(record: Record, reading: Reading, quoted=(), why: list[str] | None = None, passages=()) -> None:
    """A record's card: what it is, who wrote to whom, where the archive lists it, the summary (the question's words
    highlighted, the quoted sentences in italics), the full text behind a toggle, the archive's link and, for an
    answer's source, why it is there."""
    st.caption(record_meta(record))
    for line in (correspondents_line(record), listing_line(record)):
        if line:
            st.caption(line)
    st.markdown(summary_markdown(record, reading.wanted, quoted))
    if quoted:
        st.caption("In italics: the sentences the answer quotes.")
    for number, _ in passages:
        st.caption(f"Quoted from its full text, paragraph {number}, with the paragraphs around it:")
        st.markdown(passage_markdown(record, number))
    if record.full_text.strip():
        with st.expander("Full text of the document"):
            st.markdown(full_text_markdown(record.full_text))
    link = link_markdown(record_link(record, reading.archive))
    if link or why:
        with st.container(horizontal=True, vertical_alignment="center"):
            if link:
                st.markdown(link)
            if why:
                with st.popover("Why this source", type="tertiary"):
                    st.markdown("\n".join(f"- {line}" for line in why))
