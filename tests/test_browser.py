"""End to end: the real chat app (`streamlit run app.py`) driven in headless Debian Chromium with Playwright.

One server is started for the module on a temporary corpus: the shipped corpus plus a synthetic record whose
title and summary hold HTML and Markdown that must show as plain text. Skipped, with the reason, on a
machine without /usr/bin/chromium (`apt-get install chromium`; .ci/run installs it).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parent.parent
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

# Installed once in the page: on Enter in the chat box, note the time; then watch the page for the new answer's
# text with a citation marker (the answer shown) and for its closing caption "… · N ms" (the whole answer shown).
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
        if (/· \\d+ ms/.test(text)) times.done = performance.now() - times.submitted;
    }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


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
    """`streamlit run app.py` on a temporary corpus and index; yields its URL and how long it took to start."""
    from qa.config import Config
    from qa.index import ArchiveIndex

    root = tmp_path_factory.mktemp("browser")
    shutil.copytree(REPO / "corpus", root / "corpus")
    (root / "corpus" / "synthetic.jsonl").write_text(json.dumps(HOSTILE) + "\n", encoding="utf-8")
    config = Config(corpus=root / "corpus", index=root / "index", cache=root / "cache")
    ArchiveIndex.build(config, embedder=embedder)

    port = _free_port()
    env = dict(
        os.environ,
        ARCHIVE_QA_CORPUS=str(config.corpus),
        ARCHIVE_QA_INDEX=str(config.index_dir),
        ARCHIVE_QA_CACHE=str(config.cache),
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
        yield {"url": url, "started": started, "log": log}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def page(chromium, server, tmp_path_factory):
    """One page of the app, loaded until it can answer (the example questions are shown)."""
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")  # a fresh --user-data-dir
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(chromium),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 1000},
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.goto(server["url"])
            page.get_by_role("button", name="What did Stalin tell Mao").wait_for(timeout=STARTUP_TIMEOUT_S * 1000)
            server["ready_s"] = time.perf_counter() - server["started"]
            print(f"\nserver start to a page that answers: {server['ready_s']:.1f} s")
            page.evaluate(WATCH_ANSWERS)
            yield page
        finally:
            context.close()


def ask(page, question: str) -> dict:
    """Type a question and press Enter; milliseconds from the key press to the answer text shown and to all of it."""
    box = page.locator('[data-testid="stChatInput"] textarea')
    box.fill(question)
    box.press("Enter")
    try:
        page.wait_for_function("() => window.__answerTimes.done !== undefined", timeout=ANSWER_TIMEOUT_MS)
    except Exception:  # say what the page shows instead of a bare timeout
        messages = page.locator('[data-testid="stChatMessage"]').all_inner_texts()
        times = page.evaluate("() => window.__answerTimes")
        pytest.fail(f"no answer to {question!r}: {times}, {len(messages)} messages, last: {messages[-2:]!r}")
    return page.evaluate("() => ({shown: window.__answerTimes.shown, done: window.__answerTimes.done})")


def last_answer(page) -> str:
    """The last chat message as the reader sees it (the invisible word joiners that stop autolinks removed)."""
    return page.locator('[data-testid="stChatMessage"]').last.inner_text().replace("\u2060", "")


WARM_QUESTIONS = (
    "What did Mikoyan and Mao Zedong discuss in 1949?",
    "How did the Romanian party react to the tension between China and the Soviet Union?",
    "Who is Filippov?",
    "What did Mikoyan discuss?",
    "What did Stalin tell Mao about the PLA?",
)


def settle(page) -> None:
    """Wait until the last answer's timeline is drawn and the app is idle, as when a reader reads the answer."""
    page.wait_for_function(
        """() => { const m = document.querySelectorAll('[data-testid="stChatMessage"]');
                   return m.length && m[m.length - 1].querySelector('[data-testid="stVegaLiteChart"] canvas, '
                                                                   + '[data-testid="stVegaLiteChart"] svg')
                          && !document.querySelector('[data-testid="stStatusWidgetRunningIcon"]'); }""",
        timeout=ANSWER_TIMEOUT_MS,
    )
    page.wait_for_timeout(500)


def test_browser_answers_with_citations_fast(page, server, tmp_path, record_property):
    first = ask(page, "What did Stalin tell Mao about the economic situation in China?")
    text = last_answer(page)
    assert "[1]" in text
    assert "Cable, Stalin to Mao Zedong [via Kovalev]" in text  # the source card's title
    assert "retrieval score" in text
    warm = []
    for question in WARM_QUESTIONS:  # a conversation: each answer is drawn without re-sending the earlier ones
        settle(page)
        warm.append(ask(page, question))
        assert "[1]" in last_answer(page), question
    settle(page)
    text = page.locator('[data-testid="stChatMessage"]').all_inner_texts()
    assert len(text) == 2 * (1 + len(WARM_QUESTIONS))  # every turn is still on the page, in order
    assert "Memorandum of Conversation between Anastas Mikoyan and Mao Zedong" in text[3]
    page.screenshot(path=str(tmp_path / "answer.png"))
    assert (tmp_path / "answer.png").stat().st_size > 10_000
    shown = sorted(t["shown"] for t in warm)
    done = sorted(t["done"] for t in warm)
    figures = {
        "first_answer_shown_ms": first["shown"],
        "first_answer_complete_ms": first["done"],
        "warm_answer_shown_median_ms": shown[len(shown) // 2],
        "warm_answer_shown_max_ms": shown[-1],
        "warm_answer_complete_median_ms": done[len(done) // 2],
    }
    for name, value in figures.items():
        record_property(name, round(value))
    print(
        f"\nsubmission to answer: first {first['shown']:.0f} ms shown, {first['done']:.0f} ms complete; "
        f"{len(warm)} warm answers shown in {', '.join(f'{t:.0f}' for t in shown)} ms "
        f"(median {figures['warm_answer_shown_median_ms']:.0f}), "
        f"complete in median {figures['warm_answer_complete_median_ms']:.0f} ms; screenshot in {tmp_path}"
    )


def assert_answered_once_in_order(page, before: int, questions: list[str]) -> None:
    """After the first `before` chat messages: each question once, in order, each followed by its cited answer."""
    texts = page.locator('[data-testid="stChatMessage"]').all_inner_texts()
    assert len(texts) == before + 2 * len(questions)
    asked = [t.split("\n", 2)[-1].strip() for t in texts[before::2]]  # a user message: icon name, then the text
    assert asked == questions
    assert all("[1]" in t for t in texts[before + 1 :: 2])


def test_browser_keeps_every_question_asked_in_quick_succession(page):
    """Questions asked right after an answer shows, while the page is still redrawn around it, are all answered,
    in order, each turn drawn once (a question must never vanish with the redraw, nor a turn show twice)."""
    before = page.locator('[data-testid="stChatMessage"]').count()
    questions = ["Who is Filippov?", "What did Mikoyan discuss?", "What did Stalin tell Mao about the PLA?"]
    for question in questions:  # no settling in between: each is asked as soon as the previous answer shows
        ask(page, question)
    settle(page)
    assert_answered_once_in_order(page, before, questions)


def test_browser_answers_every_question_of_a_burst(page):
    """Questions sent back to back, each before the previous is answered, are all answered once, in order."""
    before = page.locator('[data-testid="stChatMessage"]').count()
    questions = ["What did Mikoyan discuss?", "Who is Filippov?", "What did Stalin tell Mao about the PLA?"]
    box = page.locator('[data-testid="stChatInput"] textarea')
    for question in questions:
        box.fill(question)
        box.press("Enter")
    expected = before + 2 * len(questions)
    page.wait_for_function(
        f"() => document.querySelectorAll('[data-testid=\"stChatMessage\"]').length >= {expected}",
        timeout=ANSWER_TIMEOUT_MS,
    )
    settle(page)
    assert_answered_once_in_order(page, before, questions)


def test_browser_shows_hostile_record_as_plain_text(page):
    ask(page, "What does the memo report about rice supplies shipped to Manchuria?")
    text = last_answer(page)
    assert "[1]" in text
    # The literal text is on the page...
    assert HOSTILE_SCRIPT in text
    assert HOSTILE_IMG in text
    assert "![pixel](http://evil.example/p.png), www.evil.example and spy@evil.example" in text
    assert HOSTILE["title"] in text
    # ...and none of it became an element, ran, or links anywhere.
    state = page.evaluate(
        """() => ({
            pwned: window.__pwned, xss: window.__xss,
            imgX: document.querySelectorAll('img[src="x"]').length,
            evilImg: document.querySelectorAll('img[src*="evil.example"]').length,
            evilLinks: document.querySelectorAll('a[href*="evil.example"]').length,
            jsLinks: document.querySelectorAll('a[href^="javascript:"], a[href^="mailto:"]').length,
            scripts: [...document.scripts].filter(s => s.textContent.includes('__xss')).length,
            strong: [...document.querySelectorAll('[data-testid="stChatMessage"] strong')]
                .filter(s => s.textContent === 'urgent').length,
        })"""
    )
    assert state == {
        "pwned": None,
        "xss": None,
        "imgX": 0,
        "evilImg": 0,
        "evilLinks": 0,
        "jsLinks": 0,
        "scripts": 0,
        "strong": 0,
    }
    assert "Open in the archive" not in text  # a javascript: link is not offered at all
