"""The `archive-qa` command: corpus check, index, ask, eval, bench."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from qa.config import INDEX_KINDS, MODES, Config, ConfigError

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


class UserError(Exception):
    """A problem the user can fix; printed as one line, exit status 2 (1 for a failed check)."""

    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.status = status


def config_from_args(args: argparse.Namespace) -> Config:
    """The configuration for a command: environment variables, then the command's flags."""
    try:
        return Config.from_env(
            corpus=getattr(args, "corpus", None),
            index=getattr(args, "index", None),
            model=getattr(args, "model", None),
            k=getattr(args, "k", None),
            mode=getattr(args, "mode", None),
            index_kind=getattr(args, "index_kind", None),
            aliases=getattr(args, "aliases", None),
        )
    except ConfigError as exc:
        raise UserError(str(exc)) from None


def add_common(p: argparse.ArgumentParser, *, retrieval: bool = False) -> None:
    """Flags shared by the commands that read the corpus and the index."""
    p.add_argument("--corpus", type=Path, help="corpus folder (default: corpus, or $ARCHIVE_QA_CORPUS)")
    p.add_argument("--index", type=Path, help="index folder (default: index/ beside the corpus)")
    p.add_argument(
        "--model", help="sentence-transformers model name or local path (default: all-MiniLM-L6-v2, bundled)"
    )
    if retrieval:
        p.add_argument("--k", type=int, help="number of sources (default 5)")
        p.add_argument("--mode", choices=MODES, help="retrieval mode (default hybrid)")
        p.add_argument("--aliases", type=Path, help="extra alias file (TSV) added to the shipped one")


def _records(count: int) -> str:
    return f"{count} record" if count == 1 else f"{count} records"


def _cmd_corpus_check(args: argparse.Namespace) -> int:
    from qa.corpus import load_corpus

    root = config_from_args(args).corpus
    corpus = load_corpus(args.paths or [root], root=root)
    for path, count in corpus.per_file.items():
        print(f"{path}: {_records(count)}")
    span = corpus.date_span
    print(
        f"{_records(len(corpus.records))} in all; dates {span[0]} to {span[1]}"
        if span
        else f"{_records(len(corpus.records))} in all; no dates"
    )
    for warning in corpus.warnings:
        print(f"warning: {warning}")
    for error in corpus.errors:
        print(f"error: {error}", file=sys.stderr)
    if corpus.errors:
        print(f"{len(corpus.errors)} problem(s) found", file=sys.stderr)
        return 1
    return 0


def _add_corpus(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("corpus", help="work with the corpus files")
    csub = p.add_subparsers(dest="corpus_command", required=True)
    check = csub.add_parser("check", help="parse the corpus and report records, date span, warnings and problems")
    check.add_argument("paths", nargs="*", type=Path, help="files or folders (default: the corpus folder)")
    check.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    check.set_defaults(func=_cmd_corpus_check)


def _add_index(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("index", help="build or update the index from the corpus (incremental, atomic)")
    add_common(p)
    p.add_argument("--force", action="store_true", help="re-encode every record")
    p.add_argument("--index-kind", choices=INDEX_KINDS, help="flat (exact), hnsw (approximate) or auto by size")
    p.set_defaults(func=lambda a: importlib.import_module("qa.indexing").cli(a))


# Each further command lives in its own module with `add_parser(sub)`; listed here in help order.
COMMAND_MODULES = ("qa.ask_cli", "eval.cli", "eval.bench")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="archive-qa", description="Cited answers from an archival collection.")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_corpus(sub)
    _add_index(sub)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except UserError as exc:
        print(f"archive-qa: {exc}", file=sys.stderr)
        return exc.status
    except BrokenPipeError:
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("archive-qa: interrupted", file=sys.stderr)
        return 130
