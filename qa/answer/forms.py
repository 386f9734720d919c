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

What a question is about (its topic) is its words less the date, the names read in roles, the words that only
ask for documents ("documents", "mention", "happened", "wrote", …) and, in a list question, the word that links
the documents asked for to what they are about: the first word after the document noun (past "that|which|who"
and an auxiliary), unless it is a stop word, a name or another document noun ("Which reports *came* from
Sofia?", "Which conversations *involved* Mao Zedong?", "documents that *touch* on …"). What verb joins documents
to a topic varies without end; where it stands does not.

A list of a kind of document ("Which telegrams…", "Which conversations…"; not the generic "documents", "records",
"papers", "messages", "reports") holds only documents whose title or summary uses that word or an alias of it
(cable = telegram): `Reading.required`.

A person the titles know, named in the question but in no role, is a `Name` (`Reading.names`): a text holds the
person when it has the whole name or a handle that names no one else of the titles, so "Mao Zedong" in a question
matches a summary that says only "Mao" when the titles know one Mao (qa/index/people.py: the surname rule).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from qa.answer.dates import date_phrases, expand_years, find_date_range, strip_dates
from qa.index.lexical import Analyzer
from qa.index.people import Name, People
from qa.records import MONTHS
from qa.shared import words


class Form(StrEnum):
    """The answer forms; each is composed by one method of `qa.answer.compose.Composer` (its `forms` registry)."""

    LOOKUP = "lookup"
    LIST = "list"
    PERIOD = "period"
    CHANGE = "change"
    WHO = "who"
    YESNO = "yesno"
    OVERVIEW = "overview"
    COMPARISON = "comparison"
    UNDATED = "undated"

    @property
    def lists(self) -> bool:
        """Whether the form lists the documents of a period or person (a question's date then drops undated ones)."""
        return self in (Form.LIST, Form.PERIOD, Form.WHO, Form.CHANGE, Form.OVERVIEW)


MAX_NAME_WORDS = 6  # a question names a person in at most this many words
_DOCS = (
    r"(?:documents?|records?|papers?|files?|items?|sources?|telegrams?|cables?|reports?|letters?|memorand(?:a|um|ums)"
    r"|memos?|notes?|conversations?|transcripts?|messages?|minutes|wires?|dispatch(?:es)?)"
)
_WHO = re.compile(
    r"^\s*(?:who|what)\s+(?:was|is|were|are)\s+(?:the\s+person\s+called\s+|someone\s+called\s+)?(.+?)"
    r"(?:,\s*(?:going\s+by|according\s+to|judging\s+by|from|in)\b[^,]*)?[\s?.!]*$"
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
    r"|\bhow\s+many\b"
    rf"|\b(?:all|every|each)\s+(?:of\s+)?(?:the\s+)?{_DOCS}\b"
    r"|\bundated\b",
    re.I,
)
_YESNO = re.compile(r"^\s*(?:did|does|do|was|were|is|are|has|have|had|could|can|would|will)\b(?!\s+there\b)", re.I)
_OVERVIEW = re.compile(
    r"\b(?:summ?ari[sz]e?\w*|summ?ary|overview|rundown|run-down|outline)\b"
    r"|\bwhat(?:'s|’s|\s+is)\s+(?:this|the)\s+(?:collection|archive)\s+about\b"
    r"|\bwhat\s+(?:does|do)\s+(?:this|the)\s+(?:collection|archive)\s+(?:hold|contain|cover|have)\b",
    re.I,
)
_COMPARISON = re.compile(r"^\s*compare\b|\bcompar(?:e|es|ed)\s+(?:with|to|against)\b|\bversus\b|\bvs\.?\s", re.I)
_SIDES = re.compile(r"\s+(?:compared?\s+(?:with|to|against)|with|and|versus|vs\.?|to)\s+", re.I)
_NOT_FROM = re.compile(
    r"\b(?:isn'?t|is\s+not|aren'?t|are\s+not|not|except|other\s+than|outside|besides|apart\s+from)"
    r"\s+(?:(?:from|in|of|dated)\s+)?$",
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
contains cite cites feature features involve involves come comes came appear appears appeared anywhere ever
himself herself themselves own
""".split()
_AUTHOR_AFTER = frozenset(
    """write wrote written writes writing send sent sends sending report reported reports reporting tell told tells
    say said says
    cable cabled cables telegraph telegraphed telegraphs wire wired relay relayed relays inform informed informs
    ask asked asks advise advised advises instruct instructed instructs reply replied replies answer answered
    propose proposed request requested give gave address addressed""".split()
)
_RECIPIENT_BEFORE = frozenset(
    "tell told tells inform informed informs advise advised advises instruct instructed instructs ask asked send sent "
    "write wrote cable cabled telegraph telegraphed".split()
)
_ADVERBS = frozenset("ever never also once really himself herself actually personally".split())  # "Mao ever wrote"
_RECIPIENT_AFTER = frozenset("receive received receives get got gets".split())
_NOT_SENT_TO = frozenset("talk talked talks speak spoke speaks went go going visit visited trip".split())
_MARKERS = frozenset("about on regarding concerning re".split())  # words that introduce a topic
_DOC_WORD = re.compile(_DOCS, re.I)  # one word naming documents ("dispatches", "memoranda"), by fullmatch
# A list question's document noun, and the word after it (past "that|which|who" and an auxiliary): lower case,
# so a name ("Which documents Kovalev wrote") is never taken for it.
_DOC_NOUN = re.compile(
    rf"(?i:\b({_DOCS})\b(?:\s+(?:that|which|who))?(?:\s+(?:did|do|does|were|was|are|is|have|has|had))?)"
    r"(?:\s+([a-z][\w'’-]*))?"
)
_NAME_RUN = re.compile(r"(?<![\w'’])[A-Z][\w'’-]*(?:\.(?=\w))?(?:\s+[A-Z][\w'’-]*)*")


@dataclass(frozen=True, slots=True)
class Reading:
    """What a question asks for: its answer form, people in roles (keys), its topic tokens, the name asked about."""

    form: Form
    topic: list[str] = field(default_factory=list)
    authors: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()
    who: str = ""
    undated: bool = False
    required: tuple[str, ...] = ()  # tokens every listed document must hold: the kind of document asked for
    names: tuple[Name, ...] = ()  # people the question names in no role (matched by the surname rule)

    @property
    def has_people(self) -> bool:
        return bool(self.authors or self.recipients)


def read_question(question: str, analyzer: Analyzer, people: People) -> Reading:
    """The question's form, people in roles and topic, by the rules in this module's docstring."""
    who = _who_name(question, analyzer, people)
    undated = bool(_UNDATED.search(question))
    text = strip_dates(question)
    authors, recipients, used, others = roles(text, analyzer, people)
    form = Form.WHO if who else Form.CHANGE if _CHANGE.search(question) else None
    form = form or _asked_form(question, undated)
    if not form and (_LIST.search(question) or undated):
        form = Form.LIST
    required, relation, written = _asked_kind(text, analyzer, people) if form == Form.LIST else ((), "", ())
    topic = _topic(text, analyzer, used | set(who.lower().split()) | {relation})
    if required:  # the kind as the records write it: "cables" is the alias table's "telegram"
        topic = [r for t in topic for r in (required if t in written else (t,))]
    if form == Form.OVERVIEW:
        topic = []  # an overview asks for everything in its scope: its other words only say how to tell it
    if form == Form.CHANGE:
        topic = [t for t in topic if t not in set(analyzer.tokens(CHANGE_WORDS))]
    if not form:
        dated = find_date_range(question) is not None
        listed = not topic and (authors or recipients)
        form = Form.PERIOD if dated and not topic else Form.LIST if listed else Form.LOOKUP
    names = tuple(people.named(key) for key in others)
    return Reading(form, topic, authors, recipients, who, undated, required, names)


def _asked_form(question: str, undated: bool) -> Form | None:
    """The forms read from a question's wording alone: overview, comparison, undated, yes/no (None: none of them)."""
    if _OVERVIEW.search(question):
        return Form.OVERVIEW
    if _COMPARISON.search(question):
        return Form.COMPARISON
    if undated and not _LIST.search(question.replace("undated", "")):
        return Form.UNDATED
    if _YESNO.search(question):
        return Form.YESNO
    return None


def comparison_sides(question: str) -> tuple[str, str] | None:
    """The two things a comparison question puts side by side ("compare A with B", "how do A compare with B"),
    split at the first joining word after the comparing one; None when there are not two."""
    m = _COMPARISON.search(question)
    rest = question[m.end() :] if m and m.group(0).strip().lower() == "compare" else question
    if m and m.group(0).strip().lower() != "compare":
        before, after = question[: m.start()].strip(" ?.!"), question[m.end() :].strip(" ?.!")
        return (before, after) if before and after else None
    parts = [p.strip(" ?.!") for p in _SIDES.split(rest.strip(" ?.!"), maxsplit=1)]
    return (parts[0], parts[1]) if len(parts) == 2 and all(parts) else None


def excluded_date(question: str) -> bool:
    """Whether the question's date is one it leaves out ("everything that isn't from 1949")."""
    found = find_date_range(question)
    if found is None:
        return False
    question = expand_years(question)
    at = question.find(found.phrase)
    before = question[max(0, at - 40) : at] + (
        found.phrase.split()[0] + " " if found.phrase.startswith("from ") else ""
    )
    return bool(at > 0 and _NOT_FROM.search(before))


def _asked_kind(text: str, analyzer: Analyzer, people: People):
    """A list question's kind of document (its tokens as the records write it, unless generic), the word linking it
    to the topic, and the kind's tokens as the question writes it."""
    m = _DOC_NOUN.search(text)
    if not m:
        return (), "", ()
    noun = m.group(1).lower()
    singular = noun[:-1] if noun.endswith("s") and analyzer.canonical(noun[:-1]) != noun[:-1] else noun
    kind = analyzer.tokens(singular)  # an alias's plural ("cables") is the alias's
    required = () if set(kind) & _generic_tokens(analyzer) else tuple(kind)
    relation = (m.group(2) or "").lower()
    if _DOC_WORD.fullmatch(relation) or people.keys_for_handle(analyzer.canonical(relation)):
        relation = ""
    return required, relation, tuple(analyzer.tokens(noun))


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


def roles(text: str, analyzer: Analyzer, people: People):
    """The people a question names as authors and as recipients (keys), the words those names took, and the people
    it names in no role (each a single person: a handle shared by several is left to the words)."""
    tokens = words(analyzer.canonical(text))
    authors: list[str] = []
    recipients: list[str] = []
    others: list[str] = []
    used: set[str] = set()
    for start, end, keys in _mentions(tokens, people):
        role = _role(tokens, start, end)
        if role:
            (authors if role == "author" else recipients).extend(k for k in sorted(keys) if k not in authors)
            used |= set(tokens[start:end])
        elif len(keys) == 1:
            others.extend(keys)
    return tuple(dict.fromkeys(authors)), tuple(dict.fromkeys(recipients)), used, tuple(dict.fromkeys(others))


def _mentions(tokens: list[str], people: People) -> list[tuple[int, int, set[str]]]:
    """Each run of words naming people the titles know: (start, end, keys), longest names first."""
    found = []
    i = 0
    longest = min(people.longest_handle, MAX_NAME_WORDS)
    while i < len(tokens):
        if not people.starts_a_handle(tokens[i]):
            if tokens[i].endswith("s") and (keys := people.keys_for_handle(tokens[i][:-1])):
                found.append((i, i + 1, keys))  # a possessive written without its apostrophe: "kovalevs"
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
    """ "author", "recipient" or None for the name at tokens[start:end], from the words around it."""
    before = [t for t in tokens[max(0, start - 3) : start] if t not in ("the", "a", "an")]
    after = [t for t in tokens[end : end + 4] if t not in _ADVERBS][:3]
    previous = before[-1] if before else ""
    if previous in ("from", "by"):
        return "author"
    if previous == "to" and not (len(before) > 1 and before[-2] in _NOT_SENT_TO):
        return "recipient"
    if previous in _RECIPIENT_BEFORE:
        return "recipient"
    following = after[0] if after else ""
    if following == "s" and len(after) > 1 and _DOC_WORD.fullmatch(after[1]):
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


def swap_topic(previous: str, follow_up: str, analyzer: Analyzer, people: People) -> str | None:
    """The previous question with its topic replaced by the follow-up's, its frame (form words, people, dates)
    kept; None when the follow-up brings no topic or the previous question has none after a marker.

    The previous topic is what follows its first marker ("about", "on", "regarding", "concerning", or a word that
    only asks for documents: "mention", "discuss", "tell", "report", …) when a topic word comes next, up to the
    end; a date there is kept. A who-is question's topic is its name. The follow-up's own leading marker is
    dropped ("about Shanghai"); a date it brings is added (the caller has taken out the previous one).
    """
    new = strip_dates(follow_up).split()
    while new and new[0].lower() in _MARKERS:
        new = new[1:]
    new_topic = " ".join(new)
    if not new_topic or not _topic(new_topic, analyzer, roles(new_topic, analyzer, people)[2]):
        return None
    if _who_name(previous, analyzer, people):
        m = _WHO.match(previous)
        group = 1 if m.group(1) else 2
        return f"{previous[: m.start(group)]}{new_topic}{previous[m.end(group) :]}"
    at = _topic_start(previous, analyzer, people)
    if at is None:
        return None
    return " ".join([previous[:at].rstrip(), new_topic, *date_phrases(previous[at:]), *date_phrases(follow_up)])


def _topic_start(question: str, analyzer: Analyzer, people: People) -> int | None:
    """Where a question's topic starts: right after its first marker that a topic word follows (articles apart)."""
    used = roles(strip_dates(question), analyzer, people)[2]
    markers = _MARKERS | set(GENERIC)
    found = [m for m in re.finditer(r"[\w'’-]+", question) if m.group(0).lower() not in ("the", "a", "an")]
    for marker, following in zip(found, found[1:], strict=False):
        if marker.group(0).lower() in markers and _is_topic_word(following.group(0), analyzer, used):
            return marker.end()
    return None


def _is_topic_word(word: str, analyzer: Analyzer, used: set[str]) -> bool:
    """Whether a word of the question is a topic word: a content word, neither generic, a marker, a date, nor a
    name the question reads in a role."""
    low = word.lower()
    if low in _MARKERS or low.rstrip(".") in MONTHS or re.fullmatch(r"\d+", word):
        return False
    if set(words(analyzer.canonical(word))) <= used:  # a name read in a role (Filippov is Stalin)
        return False
    tokens = analyzer.tokens(word)
    return bool(tokens) and not set(tokens) <= _generic_tokens(analyzer)


def capitalised_names(question: str, analyzer: Analyzer) -> list[str]:
    """The runs of capitalised words of a question (names, places, events), each as written.

    A sentence's opening word is capitalised whatever it is: it is left out of its run unless it and the next
    word are a name of the alias table together ("Mao Tse-tung …"). Month names are dates, not names.
    """
    found = []
    for m in _NAME_RUN.finditer(question):
        parts = m.group(0).split()
        before = question[: m.start()].rstrip()
        opening = not before or before[-1] in '.?!:;"“(['
        if opening and not (len(parts) > 1 and analyzer.canonical(" ".join(parts[:2])) != " ".join(parts[:2]).lower()):
            parts = parts[1:]
        parts = [w for w in parts if w.lower().rstrip(".") not in MONTHS]
        parts[-1:] = [re.sub(r"['’]s$", "", w) for w in parts[-1:]]  # "Moscow's expense": the name is Moscow
        if parts:
            found.append(" ".join(parts))
    return found
