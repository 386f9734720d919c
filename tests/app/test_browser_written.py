"""End to end: the app's "Written answer" toggle in headless Chromium, against the fake model server
(tests/fake_llm.py) running in the test process, on the model-free index of the shipped corpus.

The written answer streams in: its first checked sentence is on the page while the server is still sending the
rest; then the whole answer shows, labelled with the model and "checked against the sources", its quotations one
fold away. A failing server leaves the quoted answer with one line saying why.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import replace

import pytest

from tests.app.test_browser import CHROMIUM_FLAGS, MESSAGE, REPO, STARTUP_TIMEOUT_S, _free_port, chromium  # noqa: F401
from tests.fake_llm import MODEL, FakeLLM, Reply, first_sentences

pytestmark = [pytest.mark.browser, pytest.mark.slow]

QUESTION = "What did Stalin and the CCP delegation discuss?"
FIRST = "Stalin and the CCP delegation discuss the Soviet loan to China"
TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def fake():
    server = FakeLLM()
    yield server
    server.close()


@pytest.fixture(scope="module")
def server(chromium, hashing_config, fake, tmp_path_factory):  # noqa: F811
    """`streamlit run app.py` on the model-free index, with the fake model server configured."""
    root = tmp_path_factory.mktemp("browser-written")
    port = _free_port()
    env = dict(
        os.environ,
        ARCHIVE_QA_CORPUS=str(hashing_config.corpus),
        ARCHIVE_QA_INDEX=str(hashing_config.index_dir),
        ARCHIVE_QA_MODEL=hashing_config.model,
        ARCHIVE_QA_CACHE=str(hashing_config.cache),
        ARCHIVE_QA_CONVERSATIONS=str(root / "conversations.sqlite3"),
        ARCHIVE_QA_LLM_URL=fake.url,
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
    )
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)]
    command += ["--server.address", "127.0.0.1", "--server.headless", "true"]
    log = root / "streamlit.log"
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
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def page(chromium, server, tmp_path_factory):  # noqa: F811
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(server)
            page.locator('[data-testid="stChatInput"] textarea:not([disabled])').wait_for(timeout=TIMEOUT_MS)
            yield page
        finally:
            browser.close()


def ask(page, question: str) -> None:
    box = page.locator('[data-testid="stChatInput"] textarea')
    box.fill(question)
    box.press("Enter")


def last_answer(page) -> str:
    """The last answer's text once it is drawn whole (its closing caption "Found by …" shown)."""
    page.wait_for_function(
        f"() => /Found by (meaning|exact)/.test([...document.querySelectorAll('{MESSAGE}')].pop().innerText)",
        timeout=TIMEOUT_MS,
    )
    return page.locator(MESSAGE).last.inner_text().replace("\u2060", "")


def test_the_toggle_streams_a_checked_written_answer_then_falls_back_with_a_line(page, fake):
    page.get_by_text("Written answer", exact=True).click()
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidgetRunningIcon\"]')")
    fake.reply = lambda message: replace(first_sentences(message, 3), chunk=4, chunk_pause_s=0.03)
    ask(page, QUESTION)
    # While the server is still sending: the first sentence, checked, with the mark of more to come.
    page.wait_for_function(
        f"""() => {{ const m = [...document.querySelectorAll('{MESSAGE}')].pop();
                    return m && m.innerText.includes({FIRST!r}) && m.innerText.includes('…')
                           && !m.innerText.includes('checked against the sources'); }}""",
        timeout=TIMEOUT_MS,
    )
    page.wait_for_function(
        f"() => [...document.querySelectorAll('{MESSAGE}')].pop().innerText.includes('checked against the sources')",
        timeout=TIMEOUT_MS,
    )
    text = last_answer(page)
    assert f"Written by {MODEL}, checked against the sources" in text
    assert FIRST in text and "[1]" in text and "Sources" in text
    fold = page.locator(f'{MESSAGE} [data-testid="stExpander"]').filter(
        has=page.locator("summary", has_text="Quotations the answer rests on")
    ).last
    idle = "() => !document.querySelector('[data-testid=\"stStatusWidgetRunningIcon\"]')"
    page.wait_for_function(idle, timeout=TIMEOUT_MS)  # a click during a redraw can be undone by it
    fold.locator("summary").first.click()
    fold.locator('[data-testid="stExpanderDetails"] [data-testid="stMarkdownContainer"]').first.wait_for(
        timeout=TIMEOUT_MS
    )
    assert "[1]" in fold.inner_text()

    fake.reply = Reply(status=500)
    ask(page, "What did Kovalev report to Stalin?")
    page.wait_for_function(
        f"() => [...document.querySelectorAll('{MESSAGE}')].pop().innerText.includes('Written answer not shown')",
        timeout=TIMEOUT_MS,
    )
    text = last_answer(page)
    assert "Written answer not shown: the model server answered 500" in text
    assert "The quoted answer is shown instead." in text and "[1]" in text
