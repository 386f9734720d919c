"""Reports: the JSON file, a Markdown page with a Recall@k plot, a plain-text summary, and comparisons."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from archive_qa.evaluation.runner import is_failure

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
# Metrics where a smaller number is better (everything else: larger is better).
LOWER_IS_BETTER = ("latency_p50_ms", "latency_p95_ms")


def _fmt(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.1f}" if abs(value) >= 10 else f"{value:.3f}"
    return str(value)


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in rows]
    return lines


def text_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    cells = [list(header)] + [[_fmt(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]


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


def summary(report: dict) -> str:
    """The report as plain text for the terminal."""
    modes = list(report["modes"])
    lines = [_title(report), ""]
    lines += text_table(
        ["mode", *RETRIEVAL_COLUMNS], [[m, *_row(report, m, "retrieval", RETRIEVAL_COLUMNS)] for m in modes]
    )
    if report.get("kind") == "questions":
        lines += [""]
        lines += text_table(
            ["mode", *ANSWER_COLUMNS], [[m, *_row(report, m, "answers", ANSWER_COLUMNS)] for m in modes]
        )
        for mode in modes:
            failing = {q: p for q, p in report["modes"][mode]["problems"].items() if is_failure(p)}
            lines += ["", f"{mode}: {len(failing)} failing question(s)"]
            lines += [f"  {q}: {'; '.join(x for x in p if not x.startswith('ranking:'))}" for q, p in failing.items()]
    else:
        lines += [""]
        lines += text_table(
            ["mode", *LOWER_IS_BETTER], [[m, *_row(report, m, "latency", LOWER_IS_BETTER)] for m in modes]
        )
    return "\n".join(lines)


def _row(report: dict, mode: str, section: str, columns: Sequence[str]) -> list[object]:
    values = report["modes"][mode].get(section, {})
    return [values.get(c) for c in columns]


def _title(report: dict) -> str:
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
    modes = list(report["modes"])
    lines = ["# Archive QA evaluation", "", _title(report) + ".", ""]
    if report.get("created"):
        lines += [f"Run {report['created']}.", ""]
    lines += ["## Retrieval", ""]
    lines += _table(
        ["mode", *RETRIEVAL_COLUMNS], [[m, *_row(report, m, "retrieval", RETRIEVAL_COLUMNS)] for m in modes]
    )
    lines += [""]
    if plot:
        lines += [f"![Recall@k per retrieval mode]({plot})", ""]
    if report.get("kind") != "questions":
        lines += ["## Latency", ""]
        lines += _table(["mode", *LOWER_IS_BETTER], [[m, *_row(report, m, "latency", LOWER_IS_BETTER)] for m in modes])
        return "\n".join(lines) + "\n"
    thresholds = report["config"].get("thresholds", {})
    lines += ["## Answers", ""]
    lines += _table(
        ["mode", "threshold", *ANSWER_COLUMNS],
        [[m, thresholds.get(m), *_row(report, m, "answers", ANSWER_COLUMNS)] for m in modes],
    )
    lines += [
        "",
        "Abstention precision and recall treat abstaining as the positive class. Citation precision is over "
        "answered answerable questions; the keyword hit rate over answerable ones (an abstention hits nothing). "
        "Latencies are `Assistant.ask` totals in milliseconds.",
        "",
        "## By category",
        "",
    ]
    categories = list(dict.fromkeys(c for m in modes for c in report["modes"][m]["categories"]))
    header = ["category", "questions"] + [f"{m} {c}" for m in modes for c in ("recall@5", "mrr@10", "abstention ok")]
    rows = []
    for category in categories:
        first = report["modes"][modes[0]]["categories"].get(category, {})
        row: list[object] = [category, first.get("questions")]
        for m in modes:
            c = report["modes"][m]["categories"].get(category, {})
            row += [c.get("recall@5"), c.get("mrr@10"), c.get("abstention_accuracy")]
        rows.append(row)
    lines += _table(header, rows)
    lines += ["", "## Failing questions", ""]
    outcomes = {m: {o["id"]: o for o in report["outcomes"][m]} for m in modes}
    for mode in modes:
        failing = {q: p for q, p in report["modes"][mode]["problems"].items() if is_failure(p)}
        lines += [f"### {mode}: {len(failing)}", ""]
        for qid, problems in failing.items():
            o = outcomes[mode][qid]
            lines.append(f"- **{qid}** ({o['category']}) {_escape(o['resolved_question'])} — {'; '.join(problems)}")
        lines.append("")
    return "\n".join(lines)


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
    lines = ["| mode | metric | before | after | change |", "|---|---|---|---|---|"]
    regressions: list[str] = []
    for mode in [m for m in b if m in a]:
        for metric in b[mode]:
            before, after = a[mode].get(metric), b[mode].get(metric)
            if before is None and after is None:
                continue
            change = after - before if before is not None and after is not None else None
            mark = ""
            if change is not None and metric not in LOWER_IS_BETTER and change < -tolerance:
                mark = " ▼"
                regressions.append(f"{mode} {metric}: {before:.3f} → {after:.3f}")
            elif change is not None and metric not in LOWER_IS_BETTER and change > tolerance:
                mark = " ▲"
            shown = "—" if change is None else f"{change:+.3f}" if abs(change) < 10 else f"{change:+.1f}"
            lines.append(f"| {mode} | {metric} | {_fmt(before)} | {_fmt(after)} | {shown}{mark} |")
    for mode in [m for m in b if m in a and "problems" in new["modes"][m] and "problems" in old["modes"][m]]:
        was = {q for q, p in old["modes"][mode]["problems"].items() if is_failure(p)}
        now = {q for q, p in new["modes"][mode]["problems"].items() if is_failure(p)}
        if now - was or was - now:
            lines += ["", f"{mode}: newly failing {sorted(now - was) or '—'}; now passing {sorted(was - now) or '—'}"]
    return "\n".join(lines), regressions
