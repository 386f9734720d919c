"""Reports: the JSON file, a Markdown page with a Recall@k plot, a plain-text summary, and comparisons."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from archive_qa.evaluation.runner import is_failure
from archive_qa.evaluation.tables import fmt, markdown_table, text_table

REPORT_JSON = "report.json"
REPORT_MD = "report.md"
PLOT_PNG = "recall_at_k.png"
RETRIEVAL_COLUMNS = ("recall@1", "recall@3", "recall@5", "recall@10", "mrr@10", "ndcg@10")
ANSWER_COLUMNS = (
    "abstention_precision",
    "abstention_recall",
    "abstention_accuracy",
    "citation_precision",
    "keyword_hit_rate",
    "latency_p50_ms",
    "latency_p95_ms",
)
HISTORIAN_COLUMNS = ("questions", "in_top3", "in_top10", "declined", "right", "confident_wrong")
HISTORIAN_COLUMNS += ("wrongly_declined",)
KIND_COLUMNS = ("questions", "form_accuracy", "document_recall", "document_precision", "period_recall", "name_hit_rate")
WRITTEN_COLUMNS = ("answers", "written_share", "sentences_kept", "fallbacks", "latency_p50_ms", "latency_p95_ms")
# Metrics where a smaller number is better (everything else: larger is better).
LOWER_IS_BETTER = ("latency_p50_ms", "latency_p95_ms")


def flat_metrics(report: dict) -> dict[str, dict[str, float | None]]:
    """Per mode, every headline metric in one flat mapping (retrieval, then answers when present)."""
    out: dict[str, dict[str, float | None]] = {}
    for mode, scores in report["modes"].items():
        row = {c: scores["retrieval"].get(c) for c in RETRIEVAL_COLUMNS}
        if "answers" in scores:
            row.update({c: scores["answers"].get(c) for c in ANSWER_COLUMNS})
        else:
            row.update({c: scores.get("latency", {}).get(c) for c in LOWER_IS_BETTER})
        out[mode] = row
    return out


def failing(report: dict, mode: str) -> dict[str, list[str]]:
    """The questions of one mode whose problems are failures (more than a lower ranking), with their problems."""
    return {q: p for q, p in report["modes"][mode].get("problems", {}).items() if is_failure(p)}


def summary(report: dict) -> str:
    """The report as plain text for the terminal."""
    modes = list(report["modes"])
    lines = [_title(report), "", *text_table(*_section(report, "retrieval", RETRIEVAL_COLUMNS)), ""]
    if report.get("kind") == "historian":
        return "\n".join(lines + text_table(*_historian_table(report)) + _historian_problems(report))
    if report.get("kind") != "questions":
        return "\n".join(lines + text_table(*_section(report, "latency", LOWER_IS_BETTER)))
    lines += text_table(*_section(report, "answers", ANSWER_COLUMNS))
    lines += ["", *text_table(*_kinds_table(report)), "", *_held_out_lines(report)]
    if _has_written(report):
        lines += ["", "Written answers (--write):", *text_table(*_written_table(report)), *_fallback_lines(report)]
    for mode in modes:
        failures = failing(report, mode)
        lines += ["", f"{mode}: {len(failures)} failing question(s)"]
        lines += [f"  {q}: {'; '.join(x for x in p if not x.startswith('ranking:'))}" for q, p in failures.items()]
    return "\n".join(lines)


def _section(report: dict, section: str, columns: Sequence[str]) -> tuple[list[str], list[list[object]]]:
    """A table's header and rows: one row a mode, the section's values in the columns' order."""
    rows = []
    for mode, scores in report["modes"].items():
        values = scores.get(section, {})
        rows.append([mode, *(values.get(c) for c in columns)])
    return ["mode", *columns], rows


def _kinds_table(report: dict, split: str | None = None) -> tuple[list[str], list[list[object]]]:
    """Per mode and answer form: the share answered in that form and what it listed (all questions, or a split)."""
    rows = []
    for mode, scores in report["modes"].items():
        kinds = scores.get("kinds", {}) if split is None else scores.get("held_out", {}).get(split, {}).get("kinds", {})
        rows += [[mode, kind, *(values.get(c) for c in KIND_COLUMNS)] for kind, values in kinds.items()]
    return ["mode", "kind", *KIND_COLUMNS], rows


def _historian_table(report: dict) -> tuple[list[str], list[list[object]]]:
    """Per mode and kind (then all questions): recall of the expected records in the top 3 and 10, declines."""
    rows = []
    for mode, scores in report["modes"].items():
        rows += [[mode, kind, *(v.get(c) for c in HISTORIAN_COLUMNS)] for kind, v in scores["kinds"].items()]
        rows.append([mode, "all", *(scores["all"].get(c) for c in HISTORIAN_COLUMNS)])
    return ["mode", "kind", *HISTORIAN_COLUMNS], rows


def _historian_problems(report: dict) -> list[str]:
    """Per mode, the questions with an expected record outside the top 3 or a wrong decision."""
    lines = []
    for mode, scores in report["modes"].items():
        problems = scores.get("problems", {})
        lines += ["", f"{mode}: {len(problems)} question(s) with a problem"]
        lines += [f"  {q}: {'; '.join(p)}" for q, p in problems.items()]
    if report.get("missing_titles"):
        lines += ["", "expected titles no record bears: " + "; ".join(report["missing_titles"])]
    return lines


def _held_out_lines(report: dict) -> list[str]:
    """Abstention on questions its threshold was not fitted on: k-fold over all, and the held-out test split."""
    lines = []
    for mode, scores in report["modes"].items():
        held = scores.get("held_out")
        if not held:
            continue
        cv, test = held["cross_validated"], held["test_split"]
        lines.append(
            f"{mode} held-out abstention: {cv['folds']}-fold precision {fmt(cv['abstention_precision'])} "
            f"recall {fmt(cv['abstention_recall'])}; test split ({test['questions']} questions) precision "
            f"{fmt(test['abstention_precision'])} recall {fmt(test['abstention_recall'])}"
        )
    return lines


def _title(report: dict) -> str:
    if report.get("kind") == "historian":
        return (
            f"Question set {Path(report.get('questions', '')).name}: {report['question_count']} questions, "
            f"{report['config']['records']} records, model {report['config']['model']}"
        )
    if report.get("kind") == "beir":
        return (
            f"BEIR dataset {report['dataset']} ({report['split']}): {report['query_count']} queries, "
            f"{report['config']['records']} records, model {report['config']['model']}"
        )
    return (
        f"Question set {Path(report.get('questions', '')).name}: {report['question_count']} questions "
        f"({report['answerable']} answerable), {report['config']['records']} records, "
        f"model {report['config']['model']}, k={report['config']['k']}"
    )


def markdown(report: dict, plot: str | None = PLOT_PNG) -> str:
    """The Markdown report: setup, metric tables, the plot, per-category scores and failing questions."""
    lines = ["# Archive QA evaluation", "", _title(report) + ".", ""]
    if report.get("created"):
        lines += [f"Run {report['created']}.", ""]
    lines += ["## Retrieval", "", *markdown_table(*_section(report, "retrieval", RETRIEVAL_COLUMNS)), ""]
    if plot:
        lines += [f"![Recall@k per retrieval mode]({plot})", ""]
    if report.get("kind") == "historian":
        lines += ["## By kind", "", *markdown_table(*_historian_table(report)), "", *_historian_problems(report)]
    if report.get("kind") != "questions":
        lines += ["", "## Latency", "", *markdown_table(*_section(report, "latency", LOWER_IS_BETTER))]
        return "\n".join(lines) + "\n"
    lines += _answers(report) + _kinds(report) + _written(report) + _categories(report)
    return "\n".join(lines + _failing_questions(report))


def _has_written(report: dict) -> bool:
    return any(scores.get("written") for scores in report["modes"].values())


def _written_table(report: dict) -> tuple[list[str], list[list[object]]]:
    """Per mode and answer form (and in all): what writing gave (runner.written_scores)."""
    rows = []
    for mode, scores in report["modes"].items():
        rows += [[mode, form, *(v.get(c) for c in WRITTEN_COLUMNS)] for form, v in scores.get("written", {}).items()]
    return ["mode", "kind", *WRITTEN_COLUMNS], rows


def _fallback_lines(report: dict) -> list[str]:
    """Why answers fell back to quotations, per mode, most common first."""
    lines = []
    for mode, scores in report["modes"].items():
        reasons = scores.get("written", {}).get("all", {}).get("fallback_reasons", {})
        lines += [f"  {mode}: {count} x {reason}" for reason, count in reasons.items()]
    return ["Fallbacks:", *lines] if lines else []


def _written(report: dict) -> list[str]:
    """The written answers' section (with --write): per kind, the answers written and the sentences kept."""
    if not _has_written(report):
        return []
    return [
        "## Written answers",
        "",
        *markdown_table(*_written_table(report)),
        "",
        "Written share: the answers shown written (the others fell back to quotations). Sentences kept: the share of "
        "the model's sentences that passed the check against their sources. Latency: the writing alone.",
        "",
        *(f"- {line.strip()}" for line in _fallback_lines(report)[1:]),
        "",
    ]


def _kinds(report: dict) -> list[str]:
    """The answer forms' section: per kind, over all questions and over the test split, then held-out abstention."""
    return [
        "## Answer forms",
        "",
        *markdown_table(*_kinds_table(report)),
        "",
        "On the held-out test split:",
        "",
        *markdown_table(*_kinds_table(report, "test_split")),
        "",
        "Form accuracy: the share of the kind's questions answered in that form. Document recall and precision: the "
        "listed (cited) documents against the relevant ones. Period recall: the share of the relevant records' years "
        "the answer covers. Name hit rate: the share of who-is answers that hold the expected name.",
        "",
        "## Held-out abstention",
        "",
        *[f"- {line}" for line in _held_out_lines(report)],
        "",
    ]


def _answers(report: dict) -> list[str]:
    header, rows = _section(report, "answers", ANSWER_COLUMNS)
    thresholds = report["config"].get("thresholds", {})
    rows = [[row[0], thresholds.get(row[0]), *row[1:]] for row in rows]
    return [
        "## Answers",
        "",
        *markdown_table([header[0], "threshold", *header[1:]], rows),
        "",
        "Abstention precision and recall treat abstaining as the positive class. Citation precision is over "
        "answered answerable questions; the keyword hit rate over answerable ones (an abstention hits nothing). "
        "Latencies are `Assistant.ask` totals in milliseconds.",
        "",
    ]


def _categories(report: dict) -> list[str]:
    modes = report["modes"]
    categories = list(dict.fromkeys(c for scores in modes.values() for c in scores["categories"]))
    header = ["category", "questions"] + [f"{m} {c}" for m in modes for c in ("recall@5", "mrr@10", "abstention ok")]
    rows = []
    for category in categories:
        first = next(iter(modes.values()))["categories"].get(category, {})
        row: list[object] = [category, first.get("questions")]
        for scores in modes.values():
            c = scores["categories"].get(category, {})
            row += [c.get("recall@5"), c.get("mrr@10"), c.get("abstention_accuracy")]
        rows.append(row)
    return ["## By category", "", *markdown_table(header, rows), ""]


def _failing_questions(report: dict) -> list[str]:
    lines = ["## Failing questions", ""]
    for mode in report["modes"]:
        outcomes = {o["id"]: o for o in report["outcomes"][mode]}
        failures = failing(report, mode)
        lines += [f"### {mode}: {len(failures)}", ""]
        for qid, problems in failures.items():
            o = outcomes[qid]
            lines.append(f"- **{qid}** ({o['category']}) {_escape(o['resolved_question'])} — {'; '.join(problems)}")
        lines.append("")
    return lines


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("*", "\\*").replace("_", "\\_")


def plot_recall(report: dict, path: Path) -> Path:
    """A PNG of Recall@k against k, one line per mode."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ks = [int(c.split("@")[1]) for c in RETRIEVAL_COLUMNS if c.startswith("recall@")]
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    try:
        for mode, scores in report["modes"].items():
            values = [scores["retrieval"][f"recall@{k}"] for k in ks]
            ax.plot(ks, values, marker="o", label=mode)
        ax.set_xticks(ks)
        ax.set_xlabel("k (records retrieved)")
        ax.set_ylabel("Recall@k")
        ax.set_ylim(0, 1.02)
        ax.grid(True, alpha=0.3)
        ax.legend(title="mode")
        ax.set_title(_title(report).split(":")[0])
        fig.tight_layout()
        fig.savefig(path, format="png")
    finally:
        plt.close(fig)
    return path


def write_report(report: dict, out: Path) -> list[Path]:
    """Write report.json, report.md and the plot into a folder (made if needed); returns the paths."""
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / REPORT_JSON
    json_path.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    png = plot_recall(report, out / PLOT_PNG)
    md = out / REPORT_MD
    md.write_text(markdown(report, PLOT_PNG), encoding="utf-8")
    return [json_path, md, png]


def load_report(path: Path) -> dict:
    """A report written by `archive-qa eval --out`: the JSON file, or the folder holding it."""
    path = Path(path)
    if path.is_dir():
        path = path / REPORT_JSON
    report = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(report, dict) or "modes" not in report:
        raise ValueError(f"{path} is not an evaluation report")
    return report


def compare(old: dict, new: dict, *, tolerance: float = 0.005) -> tuple[str, list[str]]:
    """A Markdown comparison of two reports, and the regressions found (beyond a small tolerance).

    Latency changes are shown but never counted as regressions: they depend on the machine.
    """
    a, b = flat_metrics(old), flat_metrics(new)
    rows: list[list[object]] = []
    regressions: list[str] = []
    for mode in [m for m in b if m in a]:
        for metric in b[mode]:
            before, after = a[mode].get(metric), b[mode].get(metric)
            if before is None and after is None:
                continue
            change, mark = _change(before, after, metric, tolerance)
            if mark == " ▼":
                regressions.append(f"{mode} {metric}: {before:.3f} → {after:.3f}")
            rows.append([mode, metric, before, after, change + mark])
    lines = markdown_table(["mode", "metric", "before", "after", "change"], rows)
    for mode in [m for m in b if m in a and "problems" in old["modes"][m] and "problems" in new["modes"][m]]:
        was, now = set(failing(old, mode)), set(failing(new, mode))
        if now != was:
            lines += ["", f"{mode}: newly failing {sorted(now - was) or '—'}; now passing {sorted(was - now) or '—'}"]
    return "\n".join(lines), regressions


def _change(before: float | None, after: float | None, metric: str, tolerance: float) -> tuple[str, str]:
    """The change of one metric as shown, and its mark: ▼ a quality metric fell, ▲ it rose (beyond the tolerance)."""
    if before is None or after is None:
        return "—", ""
    change = after - before
    shown = f"{change:+.3f}" if abs(change) < 10 else f"{change:+.1f}"
    if metric in LOWER_IS_BETTER or abs(change) <= tolerance:
        return shown, ""
    return shown, " ▼" if change < 0 else " ▲"
