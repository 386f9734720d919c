"""Reading a question: which form of answer it asks for, who it names in which role, and what it is about.

The form, by the first rule that fits (the question after follow-up resolution):

1. **who** — "who was|is <name>", "who or what was <name>", "what|who does <name> stand for|refer to", where the
   name is written with capitals or is a name the alias table or the titles know;
2. **change** — "how did|has … change|evolve|develop|shift|turn", "changes in …", "evolution of …";
3. **list** — "which|what <documents|records|telegrams|cables|reports|letters|conversations…>" (not "what did …"),
   "list …", "show|give|find me …", "documents that mention|discuss …", "are there … documents", "how many …",
   "all|every document …", anything asking for "undated" documents;
4. **period** — a question with a date ("in 1963", "in spring 1949", "between May and July 1949") and nothing
   else to look for ("What happened in 1963?", "What did Kovalev write in spring 1949?");
5. **list** — a question that names people in roles (below) and nothing else to look for ("What did Kovalev
   write?", "What did A send to B?");
6. **lookup** — every other question.

People in roles, read from the words around a name the titles know (aliases resolved, so Filippov is Stalin):
"from A", "by A", "A's <documents>", "A wrote|sent|reported|told|…" and "did A write|send|…" make A an author;
"to B", "tell|inform|advise|ask|send|write|cable B", "B received|got" make B a recipient. Nothing else is read
as a role ("with A", "A and B discuss" stay words to look for): a role filters the documents by their titles, so
it is read only where the question says who sent or received.

What a question is about (its topic) is its words less the date, the names read in roles, and the words that
only ask for documents ("documents", "mention", "happened", "wrote", …).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from embeddings.words import words
from qa.dates import find_date_range, strip_dates
from qa.lexical import Analyzer
from qa.people import People
from qa.records import MONTHS

FORMS = ("lookup", "list", "period", "change", "who")
MAX_NAME_WORDS = 6  # a question names a person in at most this many words
_DOCS = (
    r"(?:documents?|records?|papers?|files?|items?|sources?|telegrams?|cables?|reports?|letters?|memorand(?:a|um|ums)"
    r"|memos?|notes?|conversations?|transcripts?|messages?|minutes|wires?|dispatch(?:es)?)"
)
_WHO = re.compile(
    r"^\s*(?:who|what)\s+(?:was|is|were|are)\s+(?:the\s+person\s+called\s+|someone\s+called\s+)?(.+?)[\s?.!]*$"
    r"|^\s*(?:who|what)\s+(?:does|did|do)\s+(?:the\s+name\s+)?(.+?)\s+(?:stand\s+for|refer\s+to|mean)[\s?.!]*$",
    re.I,
)
_CHANGE = re.compile(
    r"\bhow\s+(?:did|does|do|has|have|had)\b.*\b(?:chang|evolv|develop|shift|turn|transform|alter|grow|shape)\w*"
    r"|\b(?:changes?|evolution|development|shifts?)\s+(?:of|in)\b",
    re.I,
)
_LIST = re.compile(
    rf"^\s*(?:which|what)\s+(?:(?!(?:did|do|does|was|were|is|are|has|have|had)\b)\w+\s+){{0,2}}?{_DOCS}\b"
    r"|^\s*(?:please\s+)?(?:list|enumerate)\b"
    rf"|^\s*(?:please\s+)?(?:show|give|find|name)\s+(?:me\s+)?(?:all|every|each|the|any)?\s*{_DOCS}\b"
    rf"|\b{_DOCS}\s+(?:that|which|who)\s+(?:mention|name|discuss|refer|concern|deal|talk|speak|cover)"
    rf"|^\s*(?:are|is|were|was)\s+there\s+(?:any\s+|some\s+)?(?:\w+\s+){{0,2}}?{_DOCS}\b"
    rf"|\bhow\s+many\s+(?:\w+\s+){{0,2}}?{_DOCS}\b"
    rf"|\b(?:all|every|each)\s+(?:of\s+)?(?:the\s+)?{_DOCS}\b"
    r"|\bundated\b",
    re.I,
)
CHANGE_WORDS = "change changed changes evolve evolved evolution develop developed development shift shifted turn turned"
_UNDATED = re.compile(r"\bundated\b|\bwithout\s+(?:a\s+)?dates?\b|\bno\s+dates?\b", re.I)
# Words that only ask for documents or events: no topic of their own.
GENERIC = """
documents document records record papers paper files file items item sources source collection archive archives
list lists listed show give find name names named mention mentions mentioned mentioning discuss discusses discussed
refer refers concern concerns deal deals dealt talk talks cover covers speak speaks happen happened happening
occur occurred take took taken place going went event events anything everything something there undated dated
date dates write wrote written writes writing send sent sends receive received receives got get message messages
tell told say said report reports reported many please know exist exists available held hold holds kept
addressed carry carries bring brings brought raise raises raised touch touches touched include includes contain
contains cite cites feature features involve involves
""".split()
_AUTHOR_AFTER = frozenset(
    """write wrote written writes writing send sent sends report reported reports tell told tells say said says
    cable cabled cables telegraph telegraphed telegraphs wire wired relay relayed relays inform informed informs
    ask asked asks advise advised advises instruct instructed instructs reply replied replies answer answered
    propose proposed request requested give gave address addressed""".split()
)
_RECIPIENT_BEFORE = frozenset(
    "tell told tells inform informed informs advise advised advises instruct instructed instructs ask asked send sent "
    "write wrote cable cabled telegraph telegraphed".split()
)
_RECIPIENT_AFTER = frozenset("receive received receives get got gets".split())
_NOT_SENT_TO = frozenset("talk talked talks speak spoke speaks went go going visit visited trip".split())
_DOC_WORDS = frozenset(words(_DOCS.replace("?", "").replace("(", " ").replace(")", " ").replace("|", " ")))
_NAME_RUN = re.compile(r"(?<![\w'’])[A-Z][\w'’-]*(?:\.(?=\w))?(?:\s+[A-Z][\w'’-]*)*")


@dataclass(frozen=True, slots=True)
class Reading:
    """What a question asks for: its answer form, people in roles (keys), its topic tokens, the name asked about."""

    form: str
    topic: list[str] = field(default_factory=list)
    authors: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()
    who: str = ""
    undated: bool = False

    @property
    def has_people(self) -> bool:
        return bool(self.authors or self.recipients)


def read_question(question: str, analyzer: Analyzer, people: People) -> Reading:
    """The question's form, people in roles and topic, by the rules in this module's docstring."""
    who = _who_name(question, analyzer, people)
    undated = bool(_UNDATED.search(question))
    dated = find_date_range(question) is not None
    text = strip_dates(question)
    authors, recipients, used = roles(text, analyzer, people)
    topic = _topic(text, analyzer, used | set(who.lower().split()))
    if who:
        form = "who"
    elif _CHANGE.search(question):
        form = "change"
        topic = [t for t in topic if t not in set(analyzer.tokens(CHANGE_WORDS))]
    elif _LIST.search(question) or undated:
        form = "list"
    elif dated and not topic:
        form = "period"
    elif not topic and (authors or recipients):
        form = "list"
    else:
        form = "lookup"
    return Reading(form, topic, authors, recipients, who, undated)


def _who_name(question: str, analyzer: Analyzer, people: People) -> str:
    """The name a who-is question asks about, or "" when the question is not one."""
    m = _WHO.match(question)
    if not m:
        return ""
    name = re.sub(r"^(?:the|a|an)\s+", "", (m.group(1) or m.group(2)).strip(), flags=re.I)
    if not name or len(name.split()) > 5:
        return ""
    capitalised = all(w[0].isupper() for w in name.split() if w.lower() not in ("and", "il", "de", "van", "von", "bin"))
    known = analyzer.canonical(name) != name.lower() or bool(people.find(name))
    return name if capitalised or known else ""


def roles(text: str, analyzer: Analyzer, people: People) -> tuple[tuple[str, ...], tuple[str, ...], set[str]]:
    """The people a question names as authors and as recipients (keys), and the words those names took."""
    tokens = words(analyzer.canonical(text))
    authors: list[str] = []
    recipients: list[str] = []
    used: set[str] = set()
    for start, end, keys in _mentions(tokens, people):
        role = _role(tokens, start, end)
        if role:
            (authors if role == "author" else recipients).extend(k for k in sorted(keys) if k not in authors)
            used |= set(tokens[start:end])
    return tuple(dict.fromkeys(authors)), tuple(dict.fromkeys(recipients)), used


def _mentions(tokens: list[str], people: People) -> list[tuple[int, int, set[str]]]:
    """Each run of words naming people the titles know: (start, end, keys), longest names first."""
    found = []
    i = 0
    longest = min(people.longest_handle, MAX_NAME_WORDS)
    while i < len(tokens):
        if not people.starts_a_handle(tokens[i]):
            i += 1
            continue
        for size in range(min(longest, len(tokens) - i), 0, -1):
            keys = people.keys_for_handle(" ".join(tokens[i : i + size]))
            if keys:
                found.append((i, i + size, keys))
                i += size
                break
        else:
            i += 1
    return found


def _role(tokens: list[str], start: int, end: int) -> str | None:
    """"author", "recipient" or None for the name at tokens[start:end], from the words around it."""
    before = [t for t in tokens[max(0, start - 3) : start] if t not in ("the", "a", "an")]
    after = tokens[end : end + 3]
    previous = before[-1] if before else ""
    if previous in ("from", "by"):
        return "author"
    if previous == "to" and not (len(before) > 1 and before[-2] in _NOT_SENT_TO):
        return "recipient"
    if previous in _RECIPIENT_BEFORE:
        return "recipient"
    following = after[0] if after else ""
    if following == "s" and len(after) > 1 and after[1] in _DOC_WORDS:
        return "author"
    if following in _AUTHOR_AFTER:
        return "author"
    if following in _RECIPIENT_AFTER:
        return "recipient"
    return None


def _topic(text: str, analyzer: Analyzer, used: set[str]) -> list[str]:
    """The question's tokens less generic ones and the names read in roles."""
    ignore = _generic_tokens(analyzer) | set(analyzer.tokens(" ".join(sorted(used))))
    return [t for t in analyzer.tokens(text) if t not in ignore]


@lru_cache(maxsize=8)
def _generic_tokens(analyzer: Analyzer) -> frozenset[str]:
    """The tokens of the generic words, as an analyzer makes them (once per analyzer)."""
    return frozenset(analyzer.tokens(" ".join(GENERIC)))


def capitalised_names(question: str, analyzer: Analyzer) -> list[str]:
    """The runs of capitalised words of a question (names, places, events), each as written.

    A sentence's opening word is capitalised whatever it is: it is left out of its run unless it and the next
    word are a name of the alias table together ("Mao Tse-tung …"). Month names are dates, not names.
    """
    found = []
    for m in _NAME_RUN.finditer(question):
        parts = m.group(0).split()
        before = question[: m.start()].rstrip()
        opening = not before or before[-1] in ".?!:;\"“(["
        if opening and not (len(parts) > 1 and analyzer.canonical(" ".join(parts[:2])) != " ".join(parts[:2]).lower()):
            parts = parts[1:]
        parts = [w for w in parts if w.lower().rstrip(".") not in MONTHS]
        parts[-1:] = [re.sub(r"['’]s$", "", w) for w in parts[-1:]]  # "Moscow's expense": the name is Moscow
        if parts:
            found.append(" ".join(parts))
    return found
