"""`archive-qa corpus check`: records per file, date span, warnings; one line per problem and a failing status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from archive_qa.cli import main

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "corpus" / "sino-soviet-relations" / "listing-page-17_docs-161-170.txt"


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def check(capsys: pytest.CaptureFixture[str], *paths: Path | str) -> tuple[int, list[str], list[str]]:
    status = main(["corpus", "check", *map(str, paths)])
    out, err = capsys.readouterr()
    return status, out.splitlines(), err.splitlines()


def broken_corpus(root: Path) -> dict[str, Path]:
    """One file of each kind of problem, and one good file."""
    files = {
        "good": write(root / "c" / "good.txt", "July 4, 1963\nGood Entry\nA summary.\n"),
        "json": write(root / "c" / "export.jsonl", '{"title": "Fine"}\n{"title": "cut\n{"summary": "no title"}\n'),
        "bytes": write(root / "c" / "latin1.txt", b"1950\nTitle\nCaf\xe9.\n"),
        "date": write(root / "c" / "dates.csv", "title,date\nBad Day,\"February 30, 1949\"\n"),
    }
    files["link"] = root / "c" / "gone.txt"
    files["link"].symlink_to(root / "nowhere.txt")
    return files


def test_check_on_the_seed_is_clean(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = check(capsys, SEED)
    assert (status, err) == (0, [])
    assert out == [f"{SEED}: 10 records", "10 records in all; dates 1949-02-06 to 1977-03-02"]


def test_check_without_paths_reads_the_configured_corpus(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    page = write(tmp_path / "mine" / "c" / "p.txt", "1950\nA Title\n1951\nAnother\n")
    monkeypatch.setenv("ARCHIVE_QA_CORPUS", str(tmp_path / "mine"))
    status, out, err = check(capsys)
    assert (status, err) == (0, [])
    assert out == [f"{page}: 2 records", "2 records in all; dates 1950 to 1951"]


def test_check_prints_warnings_and_stays_successful(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    one = write(tmp_path / "c" / "p1.txt", "1950\nShared\nSame text.\n")
    two = write(tmp_path / "c" / "p2.txt", "1950\nShared\nSame text.\n\nUndated Entry\n")
    status, out, err = check(capsys, tmp_path)
    assert (status, err) == (0, [])
    assert out == [
        f"{one}: 1 record",
        f"{two}: 1 record",
        "2 records in all; dates 1950 to 1950",
        f"warning: {two}:1: same document as {one}:1 (listed twice): read once",
    ]


def test_check_with_no_dates(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    page = write(tmp_path / "p.jsonl", json.dumps({"title": "Undated"}) + "\n")
    status, out, _ = check(capsys, page)
    assert status == 0
    assert out == [f"{page}: 1 record", "1 record in all; no dates"]


def test_check_reports_one_line_per_problem_and_fails(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    f = broken_corpus(tmp_path)
    status, out, err = check(capsys, tmp_path)
    assert status == 1
    assert out == [
        f"{f['date']}: 0 records",
        f"{f['json']}: 1 record",
        f"{f['good']}: 1 record",
        "2 records in all; dates 1963-07-04 to 1963-07-04",
    ]
    assert err == [
        f"error: {f['date']}:2: bad date: 'February 30, 1949' is not a real day",
        f"error: {f['json']}:2: not valid JSON at column 11: Unterminated string starting at",
        f"error: {f['json']}:3: record has no title",
        f"error: {f['link']}: cannot read file: broken link to {tmp_path / 'nowhere.txt'}",
        f"error: {f['bytes']}:3: byte 0xe9 is not UTF-8 (save the file as UTF-8); file not read",
        "5 problem(s) found",
    ]


def test_check_names_missing_paths_and_unknown_formats(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    doc = write(tmp_path / "page.pdf", "%PDF-1.4")
    status, out, err = check(capsys, doc, tmp_path / "missing")
    assert status == 1
    assert out == ["0 records in all; no dates"]
    assert err == [
        f"error: {doc}: unknown format '.pdf' (use .txt, .html, .htm, .jsonl, .csv)",
        f"error: {tmp_path / 'missing'}: no such file or folder",
        "2 problem(s) found",
    ]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "ARCHIVE_QA_CORPUS"}
    return subprocess.run(
        [sys.executable, "-m", "archive_qa", "corpus", "check", *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False,
    )


def test_python_m_qa_corpus_check_on_bad_files_fails_without_a_traceback(tmp_path: Path) -> None:
    f = broken_corpus(tmp_path)
    fifo = tmp_path / "c" / "pipe.txt"
    os.mkfifo(fifo)
    result = run(str(tmp_path), str(tmp_path / "x.docx"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    errors = result.stderr.splitlines()
    assert errors[-1] == "7 problem(s) found"
    assert f"error: {fifo}: cannot read file: not a regular file" in errors
    assert f"error: {f['bytes']}:3: byte 0xe9 is not UTF-8 (save the file as UTF-8); file not read" in errors
    assert all(line.startswith(f"error: {tmp_path}") for line in errors[:-1])


def test_python_m_qa_corpus_check_on_the_shipped_corpus_succeeds() -> None:
    result = run()
    assert (result.returncode, result.stderr) == (0, "")
    assert f"{SEED.relative_to(REPO)}: 10 records" in result.stdout.splitlines()


def test_show_prints_every_field_of_each_record(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["corpus", "show", str(SEED)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Transcript of Meeting of the Political Bureau of the CC of Romanian Worker’s Party\n")
    assert "  date: July 4, 1963 (day)\n" in out
    assert f"  source: {SEED}:6" in out or "listing-page-17_docs-161-170.txt:6" in out


def test_show_json_is_one_object_a_line_with_every_field(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["corpus", "show", "--json", str(SEED)]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 10
    assert rows[3]["title"] == "Memorandum of Conversation between Anastas Mikoyan and Mao Zedong"
    assert rows[3]["date"] == "1949-02-06" and rows[3]["date_precision"] == "day"
    assert {"id", "summary", "source", "full_text", "people", "listed_under"} <= set(rows[0])


def test_show_reports_problems_in_one_line_each_and_exits_1(capsys, tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.jsonl", '{"title": "A", "date": "1949-13"}\n')
    assert main(["corpus", "show", str(bad)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"error: {bad}:1:") and err[-1] == "1 problem(s) found"


class _FullDisk:
    """Standard output on a full disk: every write fails."""

    def write(self, text: str) -> int:
        raise OSError(28, "No space left on device")

    def flush(self) -> None:
        pass


@pytest.mark.parametrize("command", [["corpus", "check"], ["corpus", "show"], ["corpus", "show", "--json"]])
def test_output_that_cannot_be_written_is_one_line(capsys, monkeypatch, command) -> None:
    monkeypatch.setattr(sys, "stdout", _FullDisk())
    status = main([*command, str(SEED)])
    assert status == 2
    assert capsys.readouterr().err == "archive-qa: No space left on device\n"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")
def test_check_into_dev_full_is_one_line_and_no_traceback() -> None:
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "archive_qa", "corpus", "check", str(SEED)], cwd=REPO,
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
    assert (done.returncode, done.stderr) == (2, "archive-qa: No space left on device\n")


# ------------------------------------------------------------------------------------------ what reaches the terminal

HOSTILE = {
    "title": "\x1b]8;;https://evil.example/\x07CLICK\x1b]8;;\x07 Report\x1b[2J on coal\x00",
    "date": "1950-03-01",
    "summary": "A report on coal.\x9b2J Output\r\x1b[31m rose.",
    "url": "javascript:alert(1)",
    "people": ["Mao\x1b[8m Zedong"],
}
RAW_CONTROL = {chr(c) for c in [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)]}


def _raw_controls(text: str) -> set[str]:
    return set(text) & RAW_CONTROL


@pytest.mark.parametrize("command", [["corpus", "show"], ["corpus", "show", "--json"], ["corpus", "check"]])
def test_control_characters_in_records_never_reach_the_terminal(capsys, tmp_path: Path, command) -> None:
    path = write(tmp_path / "c" / "hostile.jsonl", json.dumps(HOSTILE) + "\n")
    main([*command, str(path)])
    out, err = capsys.readouterr()
    assert not _raw_controls(out + err), (out, err)
    if "show" in command:
        assert "CLICK" in out and "\\u001b" in out  # shown, escaped
    if "--json" in command:
        assert json.loads(out)["title"] == HOSTILE["title"]  # the escapes are JSON's own: the value is intact


def test_ask_shows_a_hostile_record_without_its_control_characters_or_its_javascript_link(
    capfd, tmp_path: Path
) -> None:
    write(tmp_path / "c" / "hostile.jsonl", json.dumps(HOSTILE) + "\n")
    where = ["--corpus", str(tmp_path / "c"), "--index", str(tmp_path / "i"), "--model", "hashing:64"]
    assert main(["index", *where]) == 0
    capfd.readouterr()
    for extra in ([], ["--json"]):
        assert main(["ask", "report on coal", *where, *extra]) == 0
        out, err = capfd.readouterr()
        assert "CLICK" in out and not _raw_controls(out + err), out
        if not extra:
            assert "javascript:" not in out


def test_a_file_of_many_problems_lists_a_few_and_counts_the_rest(capsys, tmp_path: Path) -> None:
    path = write(tmp_path / "c" / "dates.txt", "\n".join(f"June {d % 28 + 1}, 1951" for d in range(50_000)))
    status, out, err = check(capsys, path)
    assert status == 1 and len(err) == 22, err[-3:]
    assert err[-2] == f"error: {path}:21: and 49,980 more errors in this file, not listed"
    assert err[-1] == "50,000 problem(s) found"


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["ask", "coal", "--k", "x"], "argument --k: invalid int value: 'x'"),
        (["ask", "coal", "--mode", "nope"], "argument --mode: invalid choice: 'nope'"),
        (["index", "--no-such-flag"], "unrecognized arguments: --no-such-flag"),
    ],
)
def test_a_bad_flag_is_one_line(capsys, argv, said) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    out, err = capsys.readouterr()
    assert exited.value.code == 2 and out == "" and err.count("\n") == 1, err
    assert said in err and "--help" in err


def test_problems_found_after_reading_are_listed_a_few_a_file_too(capsys, tmp_path: Path) -> None:
    rows = [{"id": "same", "title": f"Report {i}", "date": "1950"} for i in range(60)]  # one id, 60 documents
    path = write(tmp_path / "c" / "ids.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    status, out, err = check(capsys, path)
    assert status == 1 and len(err) == 22, err
    assert err[-2] == f"error: {path}:22: and 39 more errors in this file, not listed"
    assert err[-1] == "59 problem(s) found"
