"""The documentation: a short README with a contents list, every link in it and in docs/ pointing somewhere real,
the settings table true to `Config`, and the code map naming every module."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qa.config import Config

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
DOCS = sorted((REPO / "docs").glob("*.md"))
MAX_README_LINES = 250
LINK = re.compile(r"\]\(([^)\s]+)\)|<img src=\"([^\"]+)\"")
CODE_PACKAGES = ("qa", "embeddings", "archive_qa", "app_pages")


def slug(heading: str) -> str:
    """A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """The anchors of a Markdown file's headings (code blocks skipped; repeated headings numbered as GitHub does)."""
    seen: dict[str, int] = {}
    found: set[str] = set()
    fenced = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (match := re.match(r"#{1,6} (.+)", line)):
            base = slug(match.group(1))
            found.add(f"{base}-{seen[base]}" if base in seen else base)
            seen[base] = seen.get(base, 0) + 1
    return found


def links(path: Path) -> list[str]:
    """Every relative link of a Markdown file (web addresses left out), outside code blocks."""
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    targets = [a or b for a, b in LINK.findall(text)]
    return [t for t in targets if not re.match(r"[a-z]+:", t)]


def broken(path: Path) -> list[str]:
    """The links of a Markdown file whose file or heading does not exist."""
    bad = []
    for target in links(path):
        file, _, anchor = target.partition("#")
        dest = (path.parent / file).resolve() if file else path
        if not dest.exists() or (anchor and dest.suffix == ".md" and anchor not in anchors(dest)):
            bad.append(target)
    return bad


def test_the_readme_is_short_and_opens_with_the_two_commands():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= MAX_README_LINES
    block = lines[lines.index("```sh") + 1 : lines.index("```")]
    assert [line.split()[:2] for line in block] == [["make", "run"], ["make", "test"]]
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^run: .*\n(\t.*\n)*\t\$\(BIN\)/streamlit run app\.py$", makefile, re.M)
    assert re.search(r"^test: install-dev\n\t\$\(BIN\)/python -m pytest$", makefile, re.M)


def test_the_readme_has_a_contents_list_whose_links_all_resolve():
    text = README.read_text(encoding="utf-8")
    contents = text.split("## Contents\n", 1)[1].split("\n## ", 1)[0]
    targets = [a for a, _ in LINK.findall(contents)]
    own = {t[1:] for t in targets if t.startswith("#")}
    headings = {slug(h) for h in re.findall(r"^## (.+)$", text, re.M)} - {"contents"}
    assert own == headings  # every section listed, and nothing else
    assert {f"docs/{p.name}" for p in DOCS} <= set(targets)  # every docs/ file reachable from the contents
    assert broken(README) == []


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_every_link_in_docs_resolves(path):
    assert broken(path) == []


def test_every_docs_link_in_the_readme_exists():
    named = set(re.findall(r"docs/[\w.-]+\.md", README.read_text(encoding="utf-8")))
    assert named and all((REPO / name).is_file() for name in named)


def test_the_settings_table_gives_each_field_its_variable_and_help():
    rows = {row.split("|")[1].strip(" `"): row for row in README.read_text(encoding="utf-8").splitlines()
            if row.startswith("| `")}
    for name, setting in Config.settings().items():
        assert f"`{setting.env}`" in rows.get(name, ""), name
        assert f"| {setting.help} |" in rows[name], name


def test_the_code_map_names_every_module():
    text = (REPO / "docs" / "code.md").read_text(encoding="utf-8")
    modules = [p for package in CODE_PACKAGES for p in (REPO / package).rglob("*.py")] + [REPO / "app.py"]
    missing = [str(p.relative_to(REPO)) for p in modules
               if p.read_text(encoding="utf-8").strip() and f"`{p.relative_to(REPO)}`" not in text]
    assert missing == [], "add each to docs/code.md with the first line of its docstring"
