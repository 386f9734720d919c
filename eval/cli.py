"""`archive-qa eval`: score retrieval and answers on the question set or a BEIR dataset, compare two
reports, calibrate the abstention thresholds. Heavy modules are imported only when a command runs."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from qa.cli import UserError, add_common, config_from_args
from qa.config import MODES


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval",
        help="evaluate retrieval and answers (question set or BEIR dataset), compare reports, calibrate",
        description="Runs the question set (default eval/questions.jsonl) through the assistant in each "
        "retrieval mode and prints retrieval and answer metrics; see eval/README.md.",
    )
    add_common(p, retrieval=True)
    p.add_argument("--questions", type=Path, metavar="FILE", help="question set (default: eval/questions.jsonl)")
    p.add_argument("--out", type=Path, metavar="DIR", help="write report.json, report.md and recall_at_k.png here")
    what = p.add_mutually_exclusive_group()
    what.add_argument(
        "--compare", nargs=2, type=Path, metavar=("OLD", "NEW"), help="compare two reports (JSON files or folders)"
    )
    what.add_argument("--dataset", type=Path, metavar="DIR", help="a BEIR dataset folder: score retrieval on it")
    what.add_argument(
        "--calibrate",
        action="store_true",
        help="choose the abstention threshold per mode and write qa/data/abstention.json",
    )
    p.add_argument("--split", default="test", help="with --dataset: the qrels split (default test)")
    p.add_argument("--max-queries", type=int, metavar="N", help="with --dataset: score only the first N queries")
    p.add_argument("--dry-run", action="store_true", help="with --calibrate: print the thresholds, write nothing")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.compare:
        return _compare(args)
    modes = [args.mode] if args.mode else list(MODES)
    config = config_from_args(args)
    from embeddings.model import ModelError
    from qa.index import IndexProblem

    try:
        if args.dataset:
            return _dataset(args, config, modes)
        return _questions(args, config, modes)
    except (IndexProblem, ModelError) as exc:
        raise UserError(str(exc)) from None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _write(report: dict, out: Path | None) -> None:
    from eval.report import write_report

    if out is not None:
        paths = write_report(report, out)
        print("\nwrote " + ", ".join(str(p) for p in paths))


def _load_questions(args: argparse.Namespace):
    from eval.questions import DEFAULT_QUESTIONS, QuestionSetError, load_questions

    path = args.questions or DEFAULT_QUESTIONS
    try:
        return path, load_questions(path)
    except QuestionSetError as exc:
        raise UserError(str(exc)) from None


def _questions(args: argparse.Namespace, config, modes: list[str]) -> int:
    from qa.assistant import Assistant

    path, questions = _load_questions(args)
    assistant = Assistant(config)
    unknown = sorted({r for q in questions for r in q.relevant if assistant.index.records.position(r) is None})
    if unknown:
        print(
            f"warning: {len(unknown)} relevant record id(s) of {path} are not in the index "
            f"(is it built from another corpus?), e.g. {unknown[0]}",
            file=sys.stderr,
        )
    if args.calibrate:
        return _calibrate(args, assistant, questions, modes)
    from eval.report import summary
    from eval.runner import evaluate

    report = evaluate(assistant, questions, modes, k=config.k)
    report = {"created": _now(), "questions": str(path), **report}
    print(summary(report))
    _write(report, args.out)
    return 0


def _calibrate(args: argparse.Namespace, assistant, questions, modes: list[str]) -> int:
    from eval import metrics
    from eval.calibrate import calibrate, write_thresholds
    from eval.report import text_table
    from eval.runner import run_questions
    from qa.assistant import THRESHOLDS_FILE

    before = dict(assistant.thresholds)
    results = run_questions(assistant, questions, modes)
    chosen: dict[str, float] = {}
    rows = []
    for mode in modes:
        outcomes = results[mode]
        evidence = [o.evidence for o in outcomes]
        answerable = [o.answerable for o in outcomes]
        cal = calibrate(evidence, answerable)
        chosen[mode] = cal.threshold
        rows.append([mode, before[mode], round(cal.threshold, 4), cal.balanced_accuracy, cal.loo_balanced_accuracy])
    header = ["mode", "old threshold", "new threshold", "balanced accuracy", "leave-one-out balanced accuracy"]
    print("\n".join(text_table(header, rows)))
    assistant.thresholds.update(chosen)
    check = run_questions(assistant, questions, modes)
    for mode in modes:
        scores = metrics.abstention_scores([o.abstained for o in check[mode]], [o.answerable for o in check[mode]])
        shown = ", ".join(f"{k} {v:.3f}" if v is not None else f"{k} —" for k, v in scores.items())
        print(f"{mode} with the new threshold: abstention {shown}")
    if args.dry_run:
        print("dry run: thresholds not written")
    else:
        write_thresholds(chosen, THRESHOLDS_FILE)
        print(f"wrote {THRESHOLDS_FILE}")
    return 0


def _dataset(args: argparse.Namespace, config, modes: list[str]) -> int:
    from eval.beir import DatasetError, evaluate_beir, load_beir
    from eval.report import summary

    try:
        dataset = load_beir(args.dataset, args.split)
    except DatasetError as exc:
        raise UserError(str(exc)) from None
    report = evaluate_beir(dataset, modes, model=config.model, max_queries=args.max_queries, progress=True)
    report = {"created": _now(), **report}
    print(summary(report))
    _write(report, args.out)
    return 0


def _compare(args: argparse.Namespace) -> int:
    from eval.report import compare, load_report

    old_path, new_path = args.compare
    try:
        old, new = load_report(old_path), load_report(new_path)
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read a report: {exc}") from None
    table, regressions = compare(old, new)
    print(f"before: {old_path} ({old.get('created', '?')})\nafter:  {new_path} ({new.get('created', '?')})\n")
    print(table)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "compare.md").write_text(
            f"# Evaluation comparison\n\nBefore: `{old_path}`; after: `{new_path}`.\n\n{table}\n", encoding="utf-8"
        )
        print(f"\nwrote {args.out / 'compare.md'}")
    if regressions:
        print(f"\n{len(regressions)} regression(s): " + "; ".join(regressions))
        return 1
    return 0
