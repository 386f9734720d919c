"""The `archive-qa` command: corpus check and show, index, ask, export, eval, bench — every command in this one module.

It sits above the library: it parses flags into a `Config`, calls `qa`, `embeddings` and the evaluation
code, and prints. Every error a user can cause is an `ArchiveQAError`, caught once in `main()`: one line
on standard error, exit status 2. Heavy modules are imported when a command runs, so `--help` is quick.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

from qa.config import DEVICES, ENCODERS, ENGINES, INDEX_KINDS, MODES, VECTOR_DTYPES, Config
from qa.errors import RAY_INSTALL, ArchiveQAError, ConfigError, DataError, QuestionError

EXIT_PROBLEM = 2


class CheckFailed(Exception):
    """`corpus check` found problems: they are printed already; the command exits 1."""


# ---------------------------------------------------------------------------------------------- flags


def config_from_args(args: argparse.Namespace) -> Config:
    """The configuration for a command: defaults, environment variables, then the command's flags."""
    names = ("corpus", "index", "model", "k", "mode", "index_kind", "aliases", "vector_dtype", "encoder", "engine")
    names += ("device", "ray_address", "llm_url", "llm_model", "llm_key", "llm_timeout")
    return Config.from_env(**{name: getattr(args, name, None) for name in names})


def add_writing(p: argparse.ArgumentParser) -> None:
    """--write and the model server's flags (docs/written-answers.md)."""
    help = Config.settings()
    p.add_argument("--write", action="store_true", help="a written answer from the model server, every sentence "
                   "checked against its sources (the quoted answer when none passes)")
    p.add_argument("--llm-url", metavar="URL", help=f"{help['llm_url'].help}; ${help['llm_url'].env}")
    p.add_argument("--llm-model", metavar="NAME", help=f"{help['llm_model'].help}; ${help['llm_model'].env}")
    p.add_argument("--llm-key", metavar="KEY", help=f"{help['llm_key'].help} (better: ${help['llm_key'].env})")
    p.add_argument("--llm-timeout", type=float, metavar="SECONDS",
                   help=f"{help['llm_timeout'].help} (default 60; ${help['llm_timeout'].env})")


def writer_for(args: argparse.Namespace, config: Config, assistant):
    """The writer of checked answers when --write is given (None otherwise); ConfigError without a server."""
    if not args.write:
        return None
    if not config.llm_url:
        env = Config.settings()["llm_url"].env
        raise ConfigError(f"--write needs a model server: set {env} or --llm-url (see docs/written-answers.md)")
    from qa.answer.written import Writer

    return Writer(config, assistant.index.analyzer)


def add_common(p: argparse.ArgumentParser, *, retrieval: bool = False) -> None:
    """Flags shared by the commands that read the corpus and the index."""
    help = Config.settings()
    p.add_argument("--corpus", type=Path, help=f"{help['corpus'].help} (default corpus; ${help['corpus'].env})")
    p.add_argument("--index", type=Path, help=f"{help['index'].help}; ${help['index'].env}")
    p.add_argument("--model", help=f"{help['model'].help} (default: all-MiniLM-L6-v2, bundled; ${help['model'].env})")
    if retrieval:
        p.add_argument("--k", type=int, help=f"{help['k'].help} (default 5; ${help['k'].env})")
        p.add_argument("--mode", choices=MODES, help=f"{help['mode'].help} (default hybrid; ${help['mode'].env})")
        p.add_argument("--aliases", type=Path, help=f"{help['aliases'].help}; ${help['aliases'].env}")


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # every control character but tab and newline


def shown(text: str) -> str:
    """Text fit for a terminal: each control character (an escape sequence's ESC, a bell, NUL, a carriage return)
    written as a visible \\u escape, never sent raw, so nothing a record holds can move, clear or link the
    terminal (within a JSON string the escape is JSON's own)."""
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _say(*parts: object, file=None) -> None:
    """`print`, for text holding what records hold: control characters shown, not sent (see `shown`)."""
    print(*(shown(str(p)) for p in parts), file=file)


def _records(count: int) -> str:
    return f"{count} record" if count == 1 else f"{count} records"


# ---------------------------------------------------------------------------------------------- corpus


def cmd_corpus_check(args: argparse.Namespace) -> int:
    from qa.corpus import load_corpus

    root = config_from_args(args).corpus
    corpus = load_corpus(args.paths or [root], root=root)
    for path, count in corpus.per_file.items():
        _say(f"{path}: {_records(count)}")
    span = corpus.date_span
    dates = f"dates {span[0]} to {span[1]}" if span else "no dates"
    _say(f"{_records(len(corpus.records))} in all; {dates}")
    for warning in corpus.warnings:
        _say(f"warning: {warning}")
    _report_problems(corpus)
    return 0


def cmd_corpus_show(args: argparse.Namespace) -> int:
    from qa.corpus import format_records, load_corpus, record_rows

    root = config_from_args(args).corpus
    corpus = load_corpus(args.paths or [root], root=root)
    if args.json:
        for row in record_rows(corpus):
            _say(json.dumps(row, ensure_ascii=False))  # control characters left raw by JSON are \u escapes
    elif corpus.records:
        _say(format_records(corpus.records))
    _report_problems(corpus)
    return 0


def _report_problems(corpus) -> None:
    """Print the corpus's problems, one line each, and fail the command when there is one."""
    for error in corpus.errors:
        _say(f"error: {error}", file=sys.stderr)
    if corpus.errors:
        _say(f"{corpus.error_count:,} problem(s) found", file=sys.stderr)
        raise CheckFailed


def add_corpus(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("corpus", help="work with the corpus files")
    csub = p.add_subparsers(dest="corpus_command", required=True)
    check = csub.add_parser("check", help="parse the corpus and report records, date span, warnings and problems")
    check.add_argument("paths", nargs="*", type=Path, help="files or folders (default: the corpus folder)")
    check.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    check.set_defaults(func=cmd_corpus_check)
    show = csub.add_parser("show", help="print the records as read: every field, and the file:line each came from")
    show.add_argument("paths", nargs="*", type=Path, help="files or folders (default: the corpus folder)")
    show.add_argument("--json", action="store_true", help="one JSON object a line")
    show.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    show.set_defaults(func=cmd_corpus_show)


# ---------------------------------------------------------------------------------------------- index


def cmd_index(args: argparse.Namespace) -> int:
    from qa.index.build import build_index

    config = config_from_args(args)
    if config.engine == "ray":  # say at once when Ray is missing, not after reading the corpus
        from embeddings.ray_engine import check_reachable, import_ray

        import_ray()
        check_reachable(config.ray_address)
    try:
        report = build_index(config, force=args.force, progress=_progress_bar())
    except OSError as exc:  # a full disk, a folder that cannot be written: the previous index is untouched
        where = f" ({exc.filename})" if exc.filename else ""
        raise ArchiveQAError(f"cannot write the index in {config.index_dir}{where}: {exc.strerror or exc}") from None
    print(report)
    return 0


def _progress_bar() -> Callable[[int, int], None]:
    """A progress callback drawing a tqdm bar on standard error once encoding starts."""
    from tqdm import tqdm

    bar: list = []

    def progress(done: int, total: int) -> None:
        if not bar:
            bar.append(tqdm(total=total, unit="rec", desc="embedding"))
        bar[0].update(done - bar[0].n)
        if done >= total:
            bar[0].close()

    return progress


def add_index(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("index", help="build or update the index from the corpus (incremental, atomic)")
    add_common(p)
    p.add_argument("--force", action="store_true", help="re-encode every record")
    settings = Config.settings()
    defaults = Config()

    def described(name: str) -> str:
        return f"{settings[name].help} (default {getattr(defaults, name)}; ${settings[name].env})"

    p.add_argument("--index-kind", choices=INDEX_KINDS, help=described("index_kind"))
    p.add_argument("--vector-dtype", choices=VECTOR_DTYPES, help=described("vector_dtype"))
    p.add_argument("--encoder", choices=ENCODERS, help=described("encoder"))
    p.add_argument("--device", choices=DEVICES, help=described("device"))
    p.add_argument("--engine", choices=ENGINES, help=f"{described('engine')}; ray needs `{RAY_INSTALL}`")
    p.add_argument("--ray-address", metavar="ADDRESS", help=settings["ray_address"].help)
    p.set_defaults(func=cmd_index, search_threads=0)


# ---------------------------------------------------------------------------------------------- ask


def cmd_ask(args: argparse.Namespace) -> int:
    from qa.answer import Assistant

    config = config_from_args(args)
    filters = _filters(args)
    history = _read_history(args.history) if args.history else []
    assistant = Assistant(config)
    writer = writer_for(args, config, assistant)
    answer = assistant.ask(args.question, history, filters=filters)
    if writer and not answer.error:
        answer = writer.write(answer, stream=False)
    if args.json:
        _say(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return EXIT_PROBLEM if answer.error else 0
    if answer.error:
        raise QuestionError(answer.error)
    _print_answer(answer)
    return 0


def _filters(args: argparse.Namespace):
    """The filters the date and people flags choose."""
    from qa.types import Filters, iso_date

    dates = [iso_date(flag, v) if v else None for flag, v in (("--from", args.date_from), ("--to", args.date_to))]
    people = {"from_person": args.from_person, "to_person": args.to_person, "person": args.person}
    return Filters(*dates, args.include_undated, not args.no_date_inference, **people, expand=not args.no_expansion)


def _read_history(path: Path) -> list[str]:
    """The earlier turns of a conversation from a JSON file: a list of questions, or of answers as `ask --json`
    prints them (their resolved question is what a follow-up is read against); DataError names what is wrong."""
    try:
        turns = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DataError(f"--history {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise DataError(f"--history {path}: not JSON ({exc})") from None
    if not isinstance(turns, list):
        raise DataError(f"--history {path}: must be a JSON list of earlier questions or answers")
    questions = []
    for n, turn in enumerate(turns, start=1):
        text = turn.get("resolved_question") or turn.get("question") if isinstance(turn, dict) else turn
        if not isinstance(text, str) or not text.strip():
            raise DataError(f"--history {path}: turn {n} is neither a question nor an answer with one")
        questions.append(text)
    return questions


def _print_answer(answer) -> None:
    """An answer as the command line shows it: the text, the filters and notices, the sources, the related."""
    _print_kind(answer)
    _say(answer.text)
    for applied in (answer.applied_filter, answer.people_filter):
        if applied:
            _say(f"\n({applied.description})")
    if answer.read_as:
        _say(f"\n(read as: {', '.join(answer.read_as)}; --no-expansion reads the question as written)")
    for line in (answer.override, answer.notice):
        if line:
            _say(f"\n{line}")
    if answer.sources:
        _say("\nSources:")
        for source in answer.sources:
            _say(f"  {source.citation()}")
            _say(f"      {_rest_of_summary(source)}")
    if answer.related:
        _say("\nClosest documents:" if answer.abstained else "\nAlso related:")
        for source in answer.related:
            _say(f"  {source.citation()}")


def _print_kind(answer) -> None:
    """Over a written answer, its model and that it was checked; over a quoted one asked to be written, why not."""
    from qa.answer.written import fallback_line

    if answer.kind == "written":
        _say(f"Written by {answer.written.model}, checked against the sources:\n")
    elif answer.written:
        _say(fallback_line(answer.written.fallback) + "\n")


def _rest_of_summary(source) -> str:
    """What a source card shows under its citation: the summary less the sentences the answer quotes."""
    if not source.record.summary:
        return "(no summary)"
    return source.unquoted or "(its whole summary is quoted above)"


def add_ask(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ask", help="ask the collection a question; prints a cited answer and its sources")
    p.add_argument("question", help="the question, in plain English")
    add_common(p, retrieval=True)
    add_filters(p)
    p.add_argument("--history", type=Path, metavar="FILE",
                   help="the conversation so far: a JSON list of earlier questions (or of `ask --json` answers)")
    p.add_argument("--json", action="store_true", help="print the answer as JSON (fields in docs/answers.md)")
    add_writing(p)
    p.set_defaults(func=cmd_ask)


CHAT_HELP = "Ask a question; a follow-up is read with the conversation so far. /new starts afresh, /quit ends."


def cmd_chat(args: argparse.Namespace) -> int:
    from qa.answer import Assistant

    assistant = Assistant(config_from_args(args))
    filters = _filters(args)
    history: list = []
    print(CHAT_HELP, flush=True)
    for line in _lines(sys.stdin):
        command = line.strip()
        if command in ("/quit", "/exit", "/q"):
            break
        if command == "/new":
            history = []
            print("(a new conversation)", flush=True)
            continue
        if not command:
            continue
        answer = assistant.ask(command, history, filters=filters)
        if answer.error:
            _say(answer.error)
            continue
        _print_answer(answer)
        print(flush=True)
        history.append(answer)
    return 0


def _lines(stream):
    """The lines typed, each after a "> " prompt (when typed at a terminal); ends at end of input."""
    while True:
        if stream.isatty():
            print("> ", end="", flush=True)
        line = stream.readline()
        if not line:
            return
        yield line


def add_chat(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("chat", help="a conversation on the command line: questions and follow-ups, /new, /quit")
    add_common(p, retrieval=True)
    add_filters(p)
    p.set_defaults(func=cmd_chat)


def add_filters(p: argparse.ArgumentParser) -> None:
    """The date and people flags of ask and chat (a date or person named in the question replaces them for it)."""
    p.add_argument("--from", dest="date_from", metavar="DATE", help="only documents from this date on (YYYY[-MM[-DD]])")
    p.add_argument("--to", dest="date_to", metavar="DATE", help="only documents up to this date (YYYY[-MM[-DD]])")
    p.add_argument("--include-undated", action="store_true", help="keep undated documents when --from/--to is given")
    p.add_argument("--no-date-inference", action="store_true", help="do not read a date range from the question")
    p.add_argument(
        "--no-expansion",
        action="store_true",
        help="do not read question words the collection never uses as its nearest words (teachers → professors)",
    )
    p.add_argument("--from-person", metavar="NAME", help="only documents this person wrote (as the titles say)")
    p.add_argument("--to-person", metavar="NAME", help="only documents this person received (as the titles say)")
    p.add_argument("--person", metavar="NAME", help="only documents this person wrote, received, passed on or attended")


# ---------------------------------------------------------------------------------------------- export


def cmd_export(args: argparse.Namespace) -> int:
    from qa.chat.citations import Citing
    from qa.chat.collection import collection_settings
    from qa.chat.conversations import ConversationStore, readable_turns
    from qa.chat.text import conversation_export

    config = config_from_args(args)
    store = ConversationStore(config.conversations)
    texts = store.turns(args.conversation)
    if texts is None:
        raise DataError(f"{config.conversations}: no conversation {args.conversation!r} (its link's last part)")
    citing = Citing(collection_settings(config.corpus))
    title = store.title(args.conversation) or "Archive QA conversation"
    sys.stdout.write(conversation_export(readable_turns(texts), args.format, citing, title))
    return 0


EXPORT_FORMATS = ("md", "ris", "csl", "bibtex")  # qa.chat.text.CONVERSATION_FORMATS, named here for a quick --help


def add_export(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="print a saved conversation: every cited source once, or all of it as Markdown")
    p.add_argument("conversation", metavar="CONVERSATION_ID", help="the id at the end of the conversation's link")
    p.add_argument("--format", choices=EXPORT_FORMATS, default="md",
                   help="ris, csl (CSL-JSON) or bibtex: every cited source once; md: the whole conversation with its "
                   "citations (default)")
    add_common(p)
    p.set_defaults(func=cmd_export)


# ---------------------------------------------------------------------------------------------- eval


def cmd_eval(args: argparse.Namespace) -> int:
    if args.write and (args.compare or args.dataset or args.calibrate):
        raise ConfigError("--write evaluates the answers to a question set: not with --compare, --dataset, --calibrate")
    if args.compare:
        return _eval_compare(args)
    modes = [args.mode] if args.mode else list(MODES)
    config = config_from_args(args)
    if args.dataset:
        return _eval_dataset(args, config, modes)
    return _eval_questions(args, config, modes)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _write_report(report: dict, out: Path | None) -> None:
    from archive_qa.evaluation.report import write_report

    if out is not None:
        paths = write_report(report, out)
        print("\nwrote " + ", ".join(str(p) for p in paths))


def _eval_questions(args: argparse.Namespace, config: Config, modes: list[str]) -> int:
    from archive_qa.evaluation.historian import is_historian_set
    from archive_qa.evaluation.questions import DEFAULT_QUESTIONS, load_questions
    from qa.answer import Assistant

    path = args.questions or DEFAULT_QUESTIONS
    if is_historian_set(path):
        return _eval_historian(args, config, modes, path)
    questions = load_questions(path)
    assistant = Assistant(config)
    unknown = sorted({r for q in questions for r in q.relevant if assistant.index.records.position(r) is None})
    if unknown:
        print(
            f"warning: {len(unknown)} relevant record id(s) of {path} are not in the index "
            f"(is it built from another corpus?), e.g. {unknown[0]}",
            file=sys.stderr,
        )
    if args.calibrate:
        return _eval_calibrate(args, assistant, questions, modes)
    from archive_qa.evaluation.report import summary
    from archive_qa.evaluation.runner import Writing, evaluate

    writer = writer_for(args, config, assistant)
    asking = Writing(assistant, writer) if writer else assistant
    report = {"created": _now(), "questions": str(path), **evaluate(asking, questions, modes, k=config.k)}
    print(summary(report))
    _write_report(report, args.out)
    return 0


def _eval_historian(args: argparse.Namespace, config: Config, modes: list[str], path: Path) -> int:
    from archive_qa.evaluation.historian import evaluate_historian, load_historian
    from archive_qa.evaluation.report import summary
    from qa.answer import Assistant

    if args.calibrate:  # on a historian set: the decline threshold cross-validated on folds, reported only
        from archive_qa.evaluation.historian import cross_validate

        assistant = Assistant(config)
        print("\n".join(line for mode in modes for line in cross_validate(assistant, load_historian(path), mode)))
        return 0
    questions = load_historian(path)
    report = {"created": _now(), "questions": str(path), **evaluate_historian(Assistant(config), questions, modes)}
    print(summary(report))
    _write_report(report, args.out)
    return 0


def _eval_calibrate(args: argparse.Namespace, assistant, questions, modes: list[str]) -> int:
    from archive_qa.evaluation.calibrate import calibrate_thresholds, write_thresholds
    from qa.answer.assistant import THRESHOLDS_FILE

    chosen, lines = calibrate_thresholds(assistant, questions, modes)
    print("\n".join(lines))
    if args.dry_run:
        print("dry run: thresholds not written")
    else:
        write_thresholds(chosen, THRESHOLDS_FILE)
        print(f"wrote {THRESHOLDS_FILE}")
    return 0


def _eval_dataset(args: argparse.Namespace, config: Config, modes: list[str]) -> int:
    from archive_qa.evaluation.beir import evaluate_beir, load_beir
    from archive_qa.evaluation.report import summary

    dataset = load_beir(args.dataset, args.split)
    report = evaluate_beir(dataset, modes, config=config, max_queries=args.max_queries)
    report = {"created": _now(), **report}
    print(summary(report))
    _write_report(report, args.out)
    return 0


def _eval_compare(args: argparse.Namespace) -> int:
    from archive_qa.evaluation.report import compare, load_report

    old_path, new_path = args.compare
    try:
        old, new = load_report(old_path), load_report(new_path)
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read a report: {exc}") from None
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


def add_eval(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval",
        help="evaluate retrieval and answers (question set or BEIR dataset), compare reports, calibrate",
        description="Runs the question set (default eval/questions.jsonl) through the assistant in each "
        "retrieval mode and prints retrieval and answer metrics; see eval/README.md.",
    )
    add_common(p, retrieval=True)
    p.add_argument(
        "--questions",
        type=Path,
        metavar="FILE",
        help="question set (default: eval/questions.jsonl; or one in the historian shape of eval/README.md)",
    )
    p.add_argument("--out", type=Path, metavar="DIR", help="write report.json, report.md and recall_at_k.png here")
    what = p.add_mutually_exclusive_group()
    what.add_argument(
        "--compare", nargs=2, type=Path, metavar=("OLD", "NEW"), help="compare two reports (JSON files or folders)"
    )
    what.add_argument("--dataset", type=Path, metavar="DIR", help="a BEIR dataset folder: score retrieval on it")
    what.add_argument(
        "--calibrate",
        action="store_true",
        help="choose the abstention threshold per mode and write qa/data/abstention.json (on a historian set: "
        "report it cross-validated on folds, write nothing)",
    )
    p.add_argument("--split", default="test", help="with --dataset: the qrels split (default test)")
    p.add_argument("--max-queries", type=int, metavar="N", help="with --dataset: score only the first N queries")
    p.add_argument("--dry-run", action="store_true", help="with --calibrate: print the thresholds, write nothing")
    add_writing(p)
    p.set_defaults(func=cmd_eval)


# ---------------------------------------------------------------------------------------------- bench


def cmd_bench(args: argparse.Namespace) -> int:
    from archive_qa.bench.command import run_bench

    return run_bench(args)


def add_bench(sub: argparse._SubParsersAction) -> None:
    from archive_qa.bench.command import add_options

    p = sub.add_parser(
        "bench", help="benchmark build, load, memory and latency on synthetic collections of growing size"
    )
    add_options(p)
    p.set_defaults(func=cmd_bench, search_threads=0)


# ---------------------------------------------------------------------------------------------- main


class _Parser(argparse.ArgumentParser):
    """argparse's parser, whose errors (a bad --k, an unknown --mode) are one line naming --help, not the usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_PROBLEM, f"{self.prog}: {_one_line(message)} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="archive-qa", description="Cited answers from an archival collection.")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (add_corpus, add_index, add_ask, add_chat, add_export, add_eval, add_bench):
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; a user's error ends in one line on standard error and exit status 2."""
    _escape_unprintable()
    args = build_parser().parse_args(argv)
    from qa import runtime

    runtime.start(search_threads=getattr(args, "search_threads", 1) or _cores())
    try:
        return args.func(args)
    except CheckFailed:
        return 1
    except ArchiveQAError as exc:
        print(f"archive-qa: {_one_line(str(exc))}", file=sys.stderr)
        return EXIT_PROBLEM
    except BrokenPipeError:
        sys.stderr.close()
        return 0
    except OSError as exc:  # the output cannot be written (a full disk, /dev/full), or a file failed under a command
        _quiet_stdout()
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"archive-qa: {_one_line(f'{exc.strerror or exc}{where}')}", file=sys.stderr)
        return EXIT_PROBLEM
    except KeyboardInterrupt:
        print("archive-qa: interrupted", file=sys.stderr)
        return 130


def _escape_unprintable() -> None:
    """Write what cannot be encoded (an undecodable byte of an argument, kept as a lone surrogate) as \\udcff,
    as standard error does, rather than fail on it (PYTHONIOENCODING=utf-8 makes standard output strict)."""
    try:
        sys.stdout.reconfigure(errors="backslashreplace")
    except (AttributeError, ValueError, OSError):  # not a text stream that can be reconfigured
        pass


def _quiet_stdout() -> None:
    """Point standard output at /dev/null, so that what could not be written is not tried again at exit."""
    import os

    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError, AttributeError):  # no real file behind it (a test's capture, a closed stream)
        pass


def _cores() -> int:
    import os

    return os.cpu_count() or 1


def _one_line(text: str) -> str:
    """A message on one line, whatever a file name or value in it holds (newlines, undecodable bytes)."""
    return shown(" ".join(text.encode("utf-8", "backslashreplace").decode("utf-8").split()))
