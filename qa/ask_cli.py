"""`archive-qa ask`: one question from the command line, answered with citations (or as JSON)."""

from __future__ import annotations

import argparse
import json
import sys

from qa.cli import UserError, add_common, config_from_args


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ask", help="ask the collection a question; prints a cited answer and its sources")
    p.add_argument("question", help="the question, in plain English")
    add_common(p, retrieval=True)
    p.add_argument("--from", dest="date_from", metavar="YEAR", help="only documents from this date on (YYYY[-MM[-DD]])")
    p.add_argument("--to", dest="date_to", metavar="YEAR", help="only documents up to this date (YYYY[-MM[-DD]])")
    p.add_argument("--include-undated", action="store_true", help="keep undated documents when --from/--to is given")
    p.add_argument("--no-date-inference", action="store_true", help="do not read a date range from the question")
    p.add_argument("--json", action="store_true", help="print the answer as JSON (schema in the README)")
    p.set_defaults(func=run)


def _filters(args: argparse.Namespace):
    from qa.assistant import Filters
    from qa.records import DateError, parse_date

    for flag, value in (("--from", args.date_from), ("--to", args.date_to)):
        if value is None:
            continue
        try:
            ok = parse_date(value) is not None
        except DateError:
            ok = False
        if not ok:
            raise UserError(f"{flag}: {value!r} is not a date (use YYYY, YYYY-MM or YYYY-MM-DD)")
    return Filters(args.date_from, args.date_to, args.include_undated, not args.no_date_inference)


def run(args: argparse.Namespace) -> int:
    from qa.assistant import Assistant
    from qa.index import IndexProblem

    config = config_from_args(args)
    filters = _filters(args)
    try:
        answer = Assistant(config).ask(args.question, filters=filters)
    except IndexProblem as exc:
        raise UserError(str(exc)) from None
    if args.json:
        json.dump(answer.to_dict(), sys.stdout, ensure_ascii=False, indent=2)
        print()
        return 2 if answer.error else 0
    if answer.error:
        raise UserError(answer.error)
    print(answer.text)
    if answer.applied_filter:
        print(f"\n({answer.applied_filter.description})")
    if answer.notice:
        print(f"\n{answer.notice}")
    if answer.sources:
        print("\nSources:")
        for source in answer.sources:
            print(f"  {source.citation()}")
            print(f"      {source.record.summary}" if source.record.summary else "      (no summary)")
    if answer.related:
        print("\nClosest documents:" if answer.abstained else "\nAlso related:")
        for source in answer.related:
            print(f"  {source.citation()}")
    return 0
