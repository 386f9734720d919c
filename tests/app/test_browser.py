"""End to end: the real chat app (`streamlit run app.py`) driven in headless Debian Chromium with Playwright.

One server is started for the module on a temporary corpus: the shipped corpus plus two synthetic records in the
shipped collection (cited as the Wilson Center Digital Archive, by its collection.toml), one whose title and summary
hold HTML and Markdown that must show as plain text everywhere (cards, table, exports), and one with the archive's
link and record id. Conversations go to a temporary SQLite file. Skipped, with the reason, on a
machine without /usr/bin/chromium (`apt-get install chromium`; .ci/run installs it).

Render times are measured and printed (`pytest -s`), never asserted. `ARCHIVE_QA_SCREENSHOTS=docs` writes the
README's screenshots into docs/ (otherwise they go to a temporary folder and are only checked to exist).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import date
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STARTUP_TIMEOUT_S = 120
ANSWER_TIMEOUT_MS = 30_000
MESSAGE = '[data-testid="stChatMessage"]'

HOSTILE_SCRIPT = "<script>window.__xss=1</script>"
HOSTILE_IMG = '<img src=x onerror="window.__pwned=1">'
HOSTILE = {
    "id": "hostile-1",
    "title": "Memo on rice supplies **urgent** [see](http://evil.example/t)",
    "date": "1950-03-01",
    "url": "javascript:window.__clicked=1",
    "summary": f"The memo reports rice supplies shipped to Manchuria {HOSTILE_SCRIPT} and grain quotas "
    f"{HOSTILE_IMG} with ![pixel](http://evil.example/p.png), www.evil.example and spy@evil.example notes.",
}
ARCHIVE_URL = "https://digitalarchive.wilsoncenter.org/document/119999"
ARCHIVED = {
    "id": ARCHIVE_URL,
    "title": "Letter from Zhou Enlai to Molotov on the Harbin tractor works",
    "date": "1952-08-14",
    "url": ARCHIVE_URL,
    "archive_id": "119999",
    "summary": "Zhou Enlai asks Molotov for Soviet engineers to finish the Harbin tractor works before winter.",
    "full_text": "Comrade Molotov,\nThe tractor works in Harbin need forty engineers.",
}
TRACTOR_QUESTION = "Who asked for engineers for the Harbin tractor works?"

# Installed in the page: on Enter in the chat box, note the time; then watch the page for the new answer's text with
# a citation marker (the answer shown) and for its closing caption "Found by …" (the whole answer shown).
WATCH_ANSWERS = """() => {
    const times = window.__answerTimes = {};
    document.addEventListener('keydown', e => {
        if (e.key !== 'Enter' || e.target.tagName !== 'TEXTAREA') return;
        for (const k of Object.keys(times)) delete times[k];
        times.submitted = performance.now();
        times.count = document.querySelectorAll('[data-testid="stChatMessage"]').length;
    }, true);
    new MutationObserver(() => {
        if (times.submitted === undefined || times.done !== undefined) return;
        const m = document.querySelectorAll('[data-testid="stChatMessage"]');
        if (m.length < times.count + 2) return;
        const text = m[m.length - 1].innerText;
        if (times.shown === undefined && /\\[1\\]/.test(text)) times.shown = performance.now() - times.submitted;
        if (/Found by (meaning|exact)/.test(text)) times.done = performance.now() - times.submitted;
    }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""
# What the page holds that must not be there if corpus text had been taken as HTML or Markdown.
INJECTED = """() => ({
    pwned: window.__pwned, xss: window.__xss, clicked: window.__clicked,
    imgX: document.querySelectorAll('img[src="x"]').length,
    evilImg: document.querySelectorAll('img[src*="evil.example"]').length,
    evilLinks: [...document.links].filter(a => a.hostname.endsWith('evil.example')).length,
    jsLinks: document.querySelectorAll('a[href^="javascript:"], a[href^="mailto:"]').length,
    scripts: [...document.scripts].filter(s => s.textContent.includes('__xss')).length,
    strong: [...document.querySelectorAll('strong')].filter(s => s.textContent === 'urgent').length,
})"""
NOTHING_INJECTED = {
    "pwned": None, "xss": None, "clicked": None, "imgX": 0, "evilImg": 0, "evilLinks": 0, "jsLinks": 0,
    "scripts": 0, "strong": 0,
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def chromium():
    if not CHROMIUM.exists():
        pytest.skip(f"no Debian chromium at {CHROMIUM}: `apt-get install chromium` to run the browser tests")
    pytest.importorskip("playwright.sync_api", reason="the dev extra's playwright package is not installed")
    return CHROMIUM


@pytest.fixture(scope="module")
def server(chromium, tmp_path_factory, embedder):
    """`streamlit run app.py` on a temporary corpus, index and conversation file; yields its URL and start time."""
    from qa.config import Config
    from qa.index.build import build_index

    root = tmp_path_factory.mktemp("browser")
    shutil.copytree(REPO / "corpus", root / "corpus")
    lines = [json.dumps(r) for r in (HOSTILE, ARCHIVED)]
    synthetic = root / "corpus" / "sino-soviet-relations" / "synthetic.jsonl"
    synthetic.write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = Config(corpus=root / "corpus", index=root / "index", cache=root / "cache")
    build_index(config, embedder=embedder)

    port = _free_port()
    env = dict(
        os.environ,
        ARCHIVE_QA_CORPUS=str(config.corpus),
        ARCHIVE_QA_INDEX=str(config.index_dir),
        ARCHIVE_QA_CACHE=str(config.cache),
        ARCHIVE_QA_CONVERSATIONS=str(root / "conversations.sqlite3"),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
    )
    log = root / "streamlit.log"
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)]
    command += ["--server.address", "127.0.0.1", "--server.headless", "true"]
    started = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            try:
                with urllib.request.urlopen(url + "_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.1)
        yield {"url": url, "started": started, "log": log, "conversations": root / "conversations.sqlite3"}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def context(chromium, tmp_path_factory):
    """A fresh Chromium profile; the archive's site is answered locally (the tests never go online)."""
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(chromium),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 1000},
            accept_downloads=True,
        )
        context.route("https://digitalarchive.wilsoncenter.org/**", lambda route: route.fulfill(body="the archive"))
        try:
            yield context
        finally:
            context.close()


def wait_until_ready(page) -> None:
    """Until the chat box can take a question (the model is loaded), then watch for answers."""
    page.locator('[data-testid="stChatInput"] textarea:not([disabled])').wait_for(timeout=STARTUP_TIMEOUT_S * 1000)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidgetRunningIcon\"]')",
                           timeout=STARTUP_TIMEOUT_S * 1000)
    page.evaluate(WATCH_ANSWERS)


@pytest.fixture(scope="module")
def page(context, server):
    """One page of the app, loaded until it can answer (the example questions are shown)."""
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(server["url"])
    page.get_by_role("button", name="What did Stalin tell Mao").wait_for(timeout=STARTUP_TIMEOUT_S * 1000)
    server["ready_s"] = time.perf_counter() - server["started"]
    print(f"\nserver start to a page that answers: {server['ready_s']:.1f} s")
    page.evaluate(WATCH_ANSWERS)
    return page


def ask(page, question: str) -> dict:
    """Type a question and press Enter; milliseconds from the key press to the answer text shown and to all of it."""
    box = page.locator('[data-testid="stChatInput"] textarea')
    box.fill(question)
    box.press("Enter")
    try:
        page.wait_for_function("() => window.__answerTimes.done !== undefined", timeout=ANSWER_TIMEOUT_MS)
    except Exception:  # say what the page shows instead of a bare timeout
        messages = page.locator(MESSAGE).all_inner_texts()
        times = page.evaluate("() => window.__answerTimes")
        pytest.fail(f"no answer to {question!r}: {times}, {len(messages)} messages, last: {messages[-2:]!r}")
    return page.evaluate("() => ({shown: window.__answerTimes.shown, done: window.__answerTimes.done})")


def shown(text: str) -> str:
    """Text as the reader sees it (the invisible word joiners that stop autolinks removed)."""
    return text.replace("\u2060", "")


def last_answer(page) -> str:
    return shown(page.locator(MESSAGE).last.inner_text())


def open_card(page, title: str):
    """Unfold the last source card whose line holds `title` (its content is drawn as it opens); its body."""
    card = page.locator(f'{MESSAGE} [data-testid="stExpander"]').filter(
        has=page.locator("summary", has_text=title)
    ).last
    card.locator("summary").first.click()
    body = card.locator('[data-testid="stExpanderDetails"]').first
    body.locator('[data-testid="stMarkdownContainer"]').first.wait_for()
    return body


WARM_QUESTIONS = (
    "What did Mikoyan and Mao Zedong discuss in 1949?",
    "How did the Romanian party react to the tension between China and the Soviet Union?",
    "Who is Filippov?",
    "What did Mikoyan discuss?",
    "What did Stalin tell Mao about the PLA?",
)


def settle(page) -> None:
    """Wait until the last answer is drawn in full (its closing caption) and the app is idle, as when a reader reads
    the answer."""
    page.wait_for_function(
        """() => { const m = document.querySelectorAll('[data-testid="stChatMessage"]');
                   return m.length && /Found by (meaning|exact)/.test(m[m.length - 1].innerText)
                          && !document.querySelector('[data-testid="stStatusWidgetRunningIcon"]'); }""",
        timeout=ANSWER_TIMEOUT_MS,
    )
    page.wait_for_timeout(600)


def test_browser_answers_with_citations_fast(page, record_property):
    first = ask(page, "What did Stalin tell Mao about the economic situation in China?")
    text = last_answer(page)
    assert "[1]" in text
    assert "Cable, Stalin to Mao Zedong [via Kovalev]" in text  # the source card's line
    assert "retrieval score" not in text  # scores are behind "Why this source", in words
    page.wait_for_url("**/?conversation=*")  # the conversation is saved and the page's link names it
    warm = []
    for question in WARM_QUESTIONS:  # a conversation: each answer is drawn without re-sending the earlier ones
        settle(page)
        warm.append(ask(page, question))
        assert "[1]" in last_answer(page), question
    settle(page)
    text = page.locator(MESSAGE).all_inner_texts()
    assert len(text) == 2 * (1 + len(WARM_QUESTIONS))  # every turn is still on the page, in order
    assert "Memorandum of Conversation between Anastas Mikoyan and Mao Zedong" in text[3]
    shown_ms = sorted(t["shown"] for t in warm)
    done = sorted(t["done"] for t in warm)
    figures = {
        "first_answer_shown_ms": first["shown"],
        "first_answer_complete_ms": first["done"],
        "warm_answer_shown_median_ms": shown_ms[len(shown_ms) // 2],
        "warm_answer_shown_max_ms": shown_ms[-1],
        "warm_answer_complete_median_ms": done[len(done) // 2],
    }
    for name, value in figures.items():
        record_property(name, round(value))
    print(
        f"\nsubmission to answer: first {first['shown']:.0f} ms shown, {first['done']:.0f} ms complete; "
        f"{len(warm)} warm answers shown in {', '.join(f'{t:.0f}' for t in shown_ms)} ms "
        f"(median {figures['warm_answer_shown_median_ms']:.0f}), "
        f"complete in median {figures['warm_answer_complete_median_ms']:.0f} ms"
    )


def test_browser_shows_the_newest_answer_after_enter(page):
    """The chat box stays pinned at the bottom and the page follows the answer: after Enter, the new answer's text
    and its closing line are inside the window."""
    settle(page)
    ask(page, "What did Kovalev report to Stalin about the military situation?")
    settle(page)
    inside = page.evaluate(
        """() => { const m = [...document.querySelectorAll('[data-testid="stChatMessage"]')].pop();
                   const text = m.querySelector('[data-testid="stMarkdownContainer"]').getBoundingClientRect();
                   const box = document.querySelector('[data-testid="stChatInput"]').getBoundingClientRect();
                   const whole = m.getBoundingClientRect();
                   return {text: text.top >= 0 && text.bottom <= innerHeight, end: whole.bottom <= box.top + 1,
                           endVisible: whole.bottom > 0 && whole.bottom <= innerHeight,
                           inputPinned: box.bottom <= innerHeight && box.top > innerHeight / 2}; }"""
    )
    assert inside == {"text": True, "end": True, "endVisible": True, "inputPinned": True}


SHOWN_MESSAGES = 2 * 20  # a long conversation draws its latest 20 turns (app_pages/chat.py, RECENT_TURNS)


def drawn(before: int, questions: list[str]) -> int:
    """The chat messages drawn once `questions` are answered after `before` of them."""
    return min(before + 2 * len(questions), max(before, SHOWN_MESSAGES))


def assert_answered_once_in_order(page, before: int, questions: list[str]) -> None:
    """After the first `before` chat messages: each question once, in order, each followed by its cited answer
    (the latest messages, when the conversation has grown past what is drawn)."""
    texts = page.locator(MESSAGE).all_inner_texts()
    assert len(texts) == drawn(before, questions)
    asked = [t.split("\n", 2)[-1].strip() for t in texts[-2 * len(questions) :: 2]]  # icon name, then the text
    assert asked == questions
    assert all("[1]" in t for t in texts[-2 * len(questions) + 1 :: 2])


def test_browser_keeps_every_question_asked_in_quick_succession(page):
    """Questions asked right after an answer shows, while the page is still redrawn around it, are all answered,
    in order, each turn drawn once (a question must never vanish with the redraw, nor a turn show twice)."""
    settle(page)
    before = page.locator(MESSAGE).count()
    questions = ["Who is Filippov?", "What did Mikoyan discuss?", "What did Stalin tell Mao about the PLA?"]
    late = []
    for question in questions:  # no settling in between: each is asked as soon as the previous answer shows
        late.append(ask(page, question))
    settle(page)
    assert_answered_once_in_order(page, before, questions)
    times = ", ".join(f"{t['shown']:.0f}" for t in late)
    print(f"\nquestions sent as the previous answer shows: answered in {times} ms")


def test_browser_answers_every_question_of_a_burst(page):
    """Questions sent back to back, each before the previous is answered, are all answered once, in order."""
    settle(page)
    before = page.locator(MESSAGE).count()
    questions = ["What did Mikoyan discuss?", "Who is Filippov?", "What did Stalin tell Mao about the PLA?"]
    box = page.locator('[data-testid="stChatInput"] textarea')
    for question in questions:
        box.fill(question)
        box.press("Enter")
    page.wait_for_function(
        """q => { const m = document.querySelectorAll('[data-testid="stChatMessage"]');
                  return m.length > 1 && m[m.length - 2].innerText.replaceAll('\u2060', '').trim().endsWith(q); }""",
        arg=questions[-1], timeout=ANSWER_TIMEOUT_MS,
    )
    settle(page)
    assert_answered_once_in_order(page, before, questions)


def test_browser_long_conversation_stays_fast(page, record_property):
    """Later in a long conversation (20 turns and more on the page), a warm answer costs what it did at first."""
    settle(page)
    turns = page.locator(MESSAGE).count() // 2
    late = []
    for question in WARM_QUESTIONS:
        settle(page)
        late.append(ask(page, question)["shown"])
    late.sort()
    record_property("late_answer_shown_median_ms", round(late[len(late) // 2]))
    print(f"\nafter {turns} turns: warm answers shown in {', '.join(f'{t:.0f}' for t in late)} ms "
          f"(median {late[len(late) // 2]:.0f})")


def test_browser_reload_keeps_the_conversation(page):
    settle(page)
    before = page.locator(MESSAGE).all_inner_texts()
    url = page.url
    page.reload()
    wait_until_ready(page)
    page.locator(MESSAGE).nth(len(before) - 1).wait_for()
    assert page.url == url
    assert [shown(t) for t in page.locator(MESSAGE).all_inner_texts()] == [shown(t) for t in before]


def test_browser_a_conversation_link_opens_it_in_a_new_page(page, context):
    settle(page)
    count = page.locator(MESSAGE).count()
    other = context.new_page()
    try:
        other.goto(page.url)
        other.locator(MESSAGE).nth(count - 1).wait_for(timeout=STARTUP_TIMEOUT_S * 1000)
        assert other.locator(MESSAGE).count() == count
        assert "Cable, Stalin to Mao Zedong [via Kovalev]" in other.locator(MESSAGE).nth(1).inner_text()
        listed = other.locator('[data-testid="stSidebar"] button').filter(has_text="What did Stalin tell Mao")
        listed.first.wait_for()  # on this loopback server the list shows every conversation
    finally:
        other.close()


def test_browser_a_record_link_opens_the_archive_url_it_carries(page, context):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    settle(page)
    ask(page, TRACTOR_QUESTION)
    settle(page)
    card = open_card(page, "Letter from Zhou Enlai to Molotov")
    assert "Record ID 119999" in card.inner_text()
    link = card.get_by_role("link", name="Open in the archive")
    with context.expect_page() as opened:
        link.click()
    archive = opened.value
    archive.wait_for_load_state()
    assert archive.url == ARCHIVE_URL
    archive.close()
    inner = card.locator('[data-testid="stExpander"]').filter(
        has=page.locator("summary", has_text="Full text of the document")
    ).first
    text = inner.get_by_text("The tractor works in Harbin need forty engineers.")
    for _ in range(3):  # a click landing while the page redraws after the pop-up can be undone by the redraw
        inner.locator("summary").first.click()
        try:
            text.wait_for(timeout=5000)
            break
        except PlaywrightTimeout:
            continue
    assert text.is_visible()


def download(page, button) -> str:
    with page.expect_download() as caught:
        button.click()
    return Path(caught.value.path()).read_text(encoding="utf-8")


def export(page, label: str) -> str:
    """The conversation shown, downloaded from the sidebar's Export in one format."""
    page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Export").click()
    text = download(page, page.get_by_role("button", name=label, exact=True))
    page.keyboard.press("Escape")
    return text


def test_browser_a_citation_names_repository_id_and_link_and_its_exports_parse(page):
    import bibtexparser
    import rispy

    settle(page)
    message = page.locator(MESSAGE).last
    message.locator("summary", has_text="Cite these sources").click()
    citation = message.locator('[data-testid="stCode"]').inner_text()  # waits for it to be drawn
    today = date.today()
    assert (f'"{ARCHIVED["title"]}," August 14, 1952, Wilson Center Digital Archive, Record ID 119999. {ARCHIVE_URL} '
            f"(accessed {today:%B} {today.day}, {today.year}).") in citation
    code = message.locator('[data-testid="stCode"]')
    code.hover()  # the copy button shows on hover: it must not cover the citation's text
    copy, text = code.locator("button").first.bounding_box(), code.locator("code").first.bounding_box()
    assert copy["x"] >= text["x"] + text["width"] - 2 or copy["y"] >= text["y"] + text["height"]
    ris = rispy.loads(download(page, message.get_by_role("button", name="Download RIS")))
    entry = next(e for e in ris if e["title"] == ARCHIVED["title"])
    assert (entry["date"], entry["year"], entry["urls"]) == ("1952/08/14/", "1952", [ARCHIVE_URL])
    assert entry["authors"] == ["Zhou Enlai"] and entry["accession_number"] == "119999"
    items = json.loads(download(page, message.get_by_role("button", name="Download CSL-JSON")))
    item = next(i for i in items if i["title"] == ARCHIVED["title"])
    assert (item["issued"], item["URL"], item["type"]) == ({"date-parts": [[1952, 8, 14]]}, ARCHIVE_URL, "manuscript")
    assert (item["archive"], item["number"]) == ("Wilson Center Digital Archive", "119999")
    assert entry["name_of_database"] == "Wilson Center Digital Archive"
    library = bibtexparser.parse_string(download(page, message.get_by_role("button", name="Download BibTeX")))
    bib = next(e for e in library.entries if e.key == "archive-119999")
    assert (bib["url"], bib["date"]) == (ARCHIVE_URL, "1952-08-14")
    assert bib["howpublished"] == "Wilson Center Digital Archive"


def test_browser_shows_hostile_record_as_plain_text(page):
    settle(page)
    ask(page, "What does the memo report about rice supplies shipped to Manchuria?")
    settle(page)
    text = last_answer(page)
    assert "[1]" in text
    assert HOSTILE["title"] in text  # the card's line, as typed
    card = shown(open_card(page, "Memo on rice supplies").inner_text())
    # The literal text is on the page, in the answer and in the card...
    for part in (HOSTILE_SCRIPT, HOSTILE_IMG, "![pixel](http://evil.example/p.png), www.evil.example and spy@evil"):
        assert part in text
        assert part in card
    # ...and none of it became an element, ran, or links anywhere; the javascript: address is not offered.
    assert page.evaluate(INJECTED) == NOTHING_INJECTED
    search = page.locator(MESSAGE).last.get_by_role("link", name="Search the archive for this title")
    assert search.get_attribute("href").startswith(
        "https://digitalarchive.wilsoncenter.org/search?search_api_fulltext=Memo+on+rice"
    )
    message = page.locator(MESSAGE).last
    message.locator("summary", has_text="Cite these sources").click()
    for name in ("RIS", "CSL-JSON"):
        exported = download(page, message.get_by_role("button", name=f"Download {name}"))
        assert HOSTILE_SCRIPT in exported and "javascript:" not in exported
    markdown = export(page, "Markdown")
    assert "What does the memo report about rice supplies" in markdown
    assert "<script>" not in markdown and "\\<script\\>" in markdown  # escaped for any Markdown viewer
    assert "Exported from Archive QA on " in markdown and "**Read as:**" in markdown


def cited_ids(server, cid: str) -> list[str]:
    """The ids of every source a saved conversation cites, once each, read from the server's conversation file."""
    from qa.chat.conversations import ConversationStore, readable_turns
    from qa.chat.text import cited_records

    return [r.id for r in cited_records(readable_turns(ConversationStore(server["conversations"]).turns(cid)))]


def test_browser_a_conversations_sources_export_and_parse(page, server):
    import bibtexparser
    import rispy
    from citeproc.source.json import CiteProcJSON

    settle(page)
    expected = cited_ids(server, page.url.rpartition("conversation=")[2])
    assert len(expected) > 5  # many answers, sources cited more than once
    ris = rispy.loads(export(page, "RIS"))
    assert [e["id"] for e in ris] == expected
    assert all(e["name_of_database"] == "Wilson Center Digital Archive" for e in ris)
    archived = next(e for e in ris if e["id"] == ARCHIVE_URL)
    assert (archived["urls"], archived["accession_number"]) == ([ARCHIVE_URL], "119999")
    items = json.loads(export(page, "CSL-JSON"))
    read = CiteProcJSON(items)
    assert [i["id"] for i in items] == expected and all(str(read[i]["archive"]) for i in expected)
    library = bibtexparser.parse_string(export(page, "BibTeX"))
    assert not library.failed_blocks and len(library.entries) == len(expected)
    markdown = export(page, "Markdown")
    assert markdown.split("## Every source cited")[1].count(f"<{ARCHIVE_URL}>") == 1


def test_browser_a_suggested_follow_up_is_asked_when_clicked(page):
    settle(page)
    suggestion = page.locator(MESSAGE).last.locator('[class*="-next"] button').first
    question = suggestion.inner_text().strip()
    assert question.startswith(("What else did", "What happened next, in", "What do the documents say about"))
    suggestion.click()
    # The newest question, the one before the last message (a long conversation shows only its latest turns).
    page.wait_for_function(
        """q => { const m = document.querySelectorAll('[data-testid="stChatMessage"]');
                  return m.length > 1 && m[m.length - 2].innerText.replaceAll('\u2060', '').trim().endsWith(q); }""",
        arg=question, timeout=ANSWER_TIMEOUT_MS,
    )
    settle(page)
    assert "[1]" in last_answer(page)


def visible_boxes(page, selector: str) -> list[dict]:
    """The bounding boxes of the timeline's SVG text shown (labels Vega hides for overlap have opacity 0)."""
    return page.evaluate(
        """sel => [...document.querySelectorAll(sel)]
              .filter(t => t.textContent && getComputedStyle(t).opacity !== '0' && t.getAttribute('opacity') !== '0')
              .map(t => { const r = t.getBoundingClientRect();
                          return {text: t.textContent, left: r.left, right: r.right,
                                  top: r.top, bottom: r.bottom}; })""",
        selector,
    )


def overlapping(boxes: list[dict]) -> list[tuple[str, str]]:
    return [(a["text"], b["text"]) for i, a in enumerate(boxes) for b in boxes[i + 1 :]
            if a["left"] < b["right"] - 1 and b["left"] < a["right"] - 1
            and a["top"] < b["bottom"] - 1 and b["top"] < a["bottom"] - 1]


def test_browser_the_timeline_is_readable_on_a_390px_phone(context, server):
    phone = context.new_page()
    try:
        phone.set_viewport_size({"width": 390, "height": 844})
        phone.goto(server["url"])
        wait_until_ready(phone)
        ask(phone, "What did Mikoyan and Mao Zedong discuss in 1949?")
        settle(phone)
        chart = phone.locator(f'{MESSAGE} [data-testid="stVegaLiteChart"]').last
        chart.scroll_into_view_if_needed()
        svg = chart.locator("svg").first
        svg.wait_for()
        labels = visible_boxes(phone, '[data-testid="stVegaLiteChart"] svg .role-axis-label text')
        rows = [b for b in labels if b["text"].startswith("[")]
        dates = [b for b in labels if not b["text"].startswith("[")]
        assert len(rows) >= 3 and len(dates) >= 2
        assert overlapping(labels) == []  # no two labels cover each other
        dots = [b["x"] for b in (d.bounding_box() for d in chart.locator("svg .mark-symbol path").all())]
        plot_width = max(b["right"] for b in dates) - min(b["left"] for b in dates)
        assert plot_width > 150 and min(dots) > max(b["right"] for b in rows)  # the dates have room beside the titles
        assert all(b["right"] <= 390 for b in labels) and all(b["text"].endswith("…") for b in rows if
                                                              len(b["text"]) > 20)  # shortened, not cut off
        box, drawn = chart.bounding_box(), svg.bounding_box()
        assert box["height"] - drawn["height"] < 40  # no blank gap under the chart
        chart.locator(".mark-symbol path").first.hover()  # the full title on hover
        tooltip = phone.locator("#vg-tooltip-element")
        tooltip.get_by_text("Memorandum of Conversation between Anastas Mikoyan").wait_for()
    finally:
        phone.close()


def test_browser_keyboard_first_stop_names_and_an_opened_card(page, context, server):
    fresh = context.new_page()
    try:
        fresh.goto(server["url"])
        wait_until_ready(fresh)
        fresh.keyboard.press("Tab")
        assert fresh.evaluate("() => document.activeElement.dataset.testid") == "stSkipToContent"
        fresh.keyboard.press("Tab")  # the question box comes next, before the sidebar's controls
        focused = fresh.evaluate("() => document.activeElement.getAttribute('aria-label')")
        assert focused == "Ask the collection a question"
    finally:
        fresh.close()
    settle(page)
    tree = page.locator("body").aria_snapshot()
    for ligature in ("keyboard_arrow_right", "keyboard_arrow_down", "keyboard_arrow_up", "forum", "table_rows",
                     "content_copy", "expand_more", "face", "smart_toy", ":material/"):
        assert ligature not in tree
    assert "Vega-Lite" not in tree  # no chart toolbar in a researcher's words ("Copy Vega-Lite spec")
    summary = page.locator(MESSAGE).last.locator("summary").first
    summary.focus()
    page.keyboard.press("Enter")  # opened from the keyboard: its content is drawn below, its header stays in view
    details = page.locator(MESSAGE).last.locator('[data-testid="stExpanderDetails"]')
    details.locator('[data-testid="stMarkdownContainer"]').first.wait_for()
    page.wait_for_timeout(1600)
    top, bottom, header, box = summary.evaluate("""s => { const r = s.getBoundingClientRect();
        return [r.top, r.bottom, document.querySelector('[data-testid="stHeader"]').getBoundingClientRect().bottom,
                document.querySelector('[data-testid="stChatInput"]').getBoundingClientRect().top]; }""")
    assert header <= top and bottom <= box  # between the page's header and the question box


def luminance(css: str) -> float:
    """The relative luminance (0 black, 1 white) of a CSS rgb()/rgba() colour."""
    r, g, b = (int(v) / 255 for v in re.findall(r"\d+(?:\.\d+)?", css)[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_browser_follows_the_systems_light_or_dark_theme(page, context, server, tmp_path):
    settle(page)
    for scheme in ("light", "dark"):
        themed = context.new_page()
        try:
            themed.emulate_media(color_scheme=scheme)
            themed.goto(page.url)
            themed.locator(MESSAGE).nth(1).wait_for(timeout=STARTUP_TIMEOUT_S * 1000)
            themed.wait_for_timeout(1000)
            colours = themed.evaluate("""() => { const main = document.querySelector('.stApp');
                const text = document.querySelector('[data-testid="stChatMessage"] p');
                return [getComputedStyle(main).backgroundColor, getComputedStyle(text).color]; }""")
            background, text = (luminance(c) for c in colours)
            if scheme == "dark":
                assert background < 0.2 and text > 0.6, colours
            else:
                assert background > 0.8 and text < 0.4, colours
            themed.screenshot(path=str(tmp_path / f"{scheme}.png"))  # both readable, as drawn
            assert (tmp_path / f"{scheme}.png").stat().st_size > 10_000
        finally:
            themed.close()


def test_browser_delete_asks_first_and_can_be_undone(page, context):
    settle(page)
    url = page.url
    other = context.new_page()
    try:
        other.goto(url)
        other.locator(MESSAGE).nth(1).wait_for(timeout=STARTUP_TIMEOUT_S * 1000)
        sidebar = other.locator('[data-testid="stSidebar"]')
        listed = sidebar.locator("button").filter(has_text="What did Stalin tell Mao")
        listed.first.wait_for()
        sidebar.get_by_role("button", name="Rename or delete").click()
        other.get_by_role("button", name="Delete this conversation…").click()
        other.keyboard.press("Escape")
        sidebar.get_by_text("Delete this conversation?").wait_for()
        sidebar.get_by_role("button", name="Delete", exact=True).click()
        undo = sidebar.get_by_role("button", name="Undo")
        undo.wait_for()
        listed.first.wait_for(state="detached")  # gone from the list, and from the page
        assert other.locator(MESSAGE).count() == 0
        undo.click()
        other.locator(MESSAGE).nth(1).wait_for()
        other.wait_for_url(url)  # back under its own link
        listed.first.wait_for()
    finally:
        other.close()


def test_browser_browse_table_filters_and_opens_a_card(page, server):
    page.goto(server["url"] + "browse")
    page.get_by_text("12 of 12 documents").wait_for(timeout=STARTUP_TIMEOUT_S * 1000)
    words = page.get_by_label("Words in the title, summary or correspondents")
    words.fill("rice")
    words.press("Enter")
    page.get_by_text("1 of 12 documents").wait_for()
    grid = page.locator('[data-testid="stDataFrame"]')
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 15, box["y"] + 52)  # the first row's selection box
    card = page.locator(".st-key-browse_card")
    card.wait_for()
    assert HOSTILE_SCRIPT in shown(card.inner_text())
    assert page.evaluate(INJECTED) == NOTHING_INJECTED
    words.fill("")
    words.press("Enter")
    page.get_by_text("12 of 12 documents").wait_for()
    page.locator('[data-testid="stVegaLiteChart"] path[aria-label^="year: 1963;"]').click()  # a bar of the chart
    page.get_by_text("2 of 12 documents").wait_for()  # its year's document, and the undated one
    page.get_by_label("Undated documents").click()
    page.get_by_role("option", name="Dated only", exact=True).click()
    page.get_by_text("1 of 12 documents").wait_for()
    page.get_by_label("Undated documents").click()
    page.get_by_role("option", name="Undated only", exact=True).click()
    page.get_by_text("1 of 12 documents").wait_for()


def test_browser_browse_sorts_by_date_and_asks_about_a_document(page, server):
    page.goto(server["url"] + "browse")
    page.get_by_text("12 of 12 documents").wait_for(timeout=STARTUP_TIMEOUT_S * 1000)
    rows = lambda: page.evaluate("""() => [...document.querySelectorAll('[data-testid="stDataFrame"] table tr')]
                                           .slice(1).map(r => [...r.querySelectorAll('td')].map(c => c.innerText))""")  # noqa: E731
    page.wait_for_function("() => document.querySelectorAll('[data-testid=\"stDataFrame\"] table tr').length > 3")
    first = rows()
    dates = [r[0] for r in first if r[0]]
    assert dates == sorted(dates) and first[0][0] == "1949-02-06"  # oldest first, by default
    assert all(r[5] for r in first)  # every record has its id
    assert ["Anastas Mikoyan, Mao Zedong"] == [r[4] for r in first if r[1].startswith("Memorandum of Conversation "
                                                                                      "between Anastas")]
    page.get_by_label("Order").click()
    page.get_by_role("option", name="Newest first").click()
    page.wait_for_function("() => { const r = document.querySelectorAll('[data-testid=\"stDataFrame\"] table tr')[1];"
                           " return r && r.innerText.startsWith('1977'); }")
    grid = page.locator('[data-testid="stDataFrame"]')
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 15, box["y"] + 52)  # the first row: the newest document
    card = page.locator(".st-key-browse_card")
    card.wait_for()
    title = card.locator("strong").first.inner_text().split(" — ")[0]
    page.get_by_role("button", name="Ask about this document").click()
    page.wait_for_url("**/?conversation=*", timeout=ANSWER_TIMEOUT_MS)
    page.locator(MESSAGE).nth(1).wait_for(timeout=ANSWER_TIMEOUT_MS)
    settle(page)
    assert shown(page.locator(MESSAGE).first.inner_text()).strip().endswith(f"What is “{title}” about?")
    assert f"[1] {title}" in last_answer(page)  # the document itself is the answer's first source
    assert "Asking about one document" in page.locator(".st-key-scope").inner_text()


def test_browser_screenshots_for_the_readme(context, server, tmp_path):
    """The chat, the browse page and a 390 px phone, light and dark, as the README shows them."""
    folder = REPO / "docs" if os.environ.get("ARCHIVE_QA_SCREENSHOTS") == "docs" else tmp_path
    shot = context.new_page()
    try:
        shot.set_viewport_size({"width": 1280, "height": 1100})
        shot.goto(server["url"])
        wait_until_ready(shot)
        ask(shot, "What did Stalin tell Mao about the economic situation in China?")
        settle(shot)
        open_card(shot, "Cable, Stalin to Mao Zedong")
        shot.wait_for_timeout(500)
        shot.screenshot(path=str(folder / "screenshot.png"))
        dark = context.new_page()
        dark.emulate_media(color_scheme="dark")
        dark.set_viewport_size({"width": 1280, "height": 1100})
        dark.goto(shot.url)
        dark.locator(MESSAGE).nth(1).wait_for(timeout=STARTUP_TIMEOUT_S * 1000)
        dark.wait_for_timeout(1500)
        dark.screenshot(path=str(folder / "screenshot-dark.png"))
        dark.close()
        ask(shot, "What did Mikoyan and Mao Zedong discuss in 1949?")  # a timeline of several rows for the phone
        settle(shot)
        for scheme in ("light", "dark"):
            phone = context.new_page()
            phone.emulate_media(color_scheme=scheme)
            phone.set_viewport_size({"width": 390, "height": 844})
            phone.goto(shot.url)
            phone.locator(MESSAGE).nth(3).wait_for(timeout=STARTUP_TIMEOUT_S * 1000)
            phone.wait_for_timeout(1500)
            phone.locator(f'{MESSAGE} [data-testid="stVegaLiteChart"]').last.scroll_into_view_if_needed()
            phone.wait_for_timeout(500)
            phone.screenshot(path=str(folder / f"screenshot-phone-{scheme}.png"))
            phone.close()
        shot.goto(server["url"] + "browse")
        shot.get_by_text("12 of 12 documents").wait_for()
        shot.wait_for_timeout(1500)
        shot.screenshot(path=str(folder / "screenshot-browse.png"))
    finally:
        shot.close()
    for name in ("screenshot.png", "screenshot-dark.png", "screenshot-phone-light.png", "screenshot-phone-dark.png",
                 "screenshot-browse.png"):
        assert (folder / name).stat().st_size > 10_000
