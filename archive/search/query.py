"""The search query language (Lucene's, as Media Cloud researchers type it), parsed once and translated per backend.

``trump kim``, ``"exact phrase"``, ``AND`` / ``OR`` / ``NOT`` (and ``-word``),
parentheses, ``prefix*``, and fields: ``title:`` ``author:`` ``text:`` search
those parts of an article; ``outlet:`` ``language:`` ``published:[2019-02-27 TO
2019-03-01]`` narrow the whole query, so they join it with ``AND`` at its top
level (``outlet:("A" OR "B")`` is fine, ``outlet:A OR trump`` is refused).
Words next to each other must all match (an implicit ``AND``, as in Media Cloud).

luqum parses; this module turns its tree into a small one of its own
(:class:`Term`, :class:`AllOf`, :class:`AnyOf`) whose words are already cut
into tokens the way both indexes cut text (letters and digits), so a word
like ``Trump-Kim`` is the phrase ``trump kim`` on either backend. From that
tree come an FTS5 ``MATCH`` expression and a PostgreSQL ``to_tsquery`` text;
each token is quoted there, and both go to the database as bound parameters.

Hostile input is bounded before luqum sees it (length, nesting) and after
(terms), and every refusal is a :class:`QueryError` naming the position.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from luqum import tree
from luqum.exceptions import IllegalCharacterError, ParseError
from luqum.parser import parser

from archive.errors import NewsArchiveError

__all__ = [
    "FILTER_FIELDS",
    "MAX_DEPTH",
    "MAX_QUERY_LENGTH",
    "MAX_TERMS",
    "TEXT_FIELDS",
    "AllOf",
    "AnyOf",
    "Filter",
    "Query",
    "QueryError",
    "Term",
    "parse_query",
]

#: Bounds on what one query may ask (a researcher's boolean query is a few hundred characters).
MAX_QUERY_LENGTH = 4000
MAX_TERMS = 200
MAX_DEPTH = 20
#: Fields searched in the text index, and the PostgreSQL weight each part of an article is stored under.
TEXT_FIELDS = {"title": "A", "author": "B", "text": "D"}
#: Fields that narrow the whole query through SQL conditions.
FILTER_FIELDS = ("outlet", "language", "published")

_TOKEN = re.compile(r"[^\W_]+")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_POSITION = re.compile(r"position (\d+)")
# luqum's parser is one PLY automaton holding its state while it parses.
_PARSER_LOCK = threading.Lock()
#: Characters of the query shown on either side of an error.
_SHOWN = 40
_NARROWS = "{}: narrows the whole query: join it to the rest with AND at the top level"


class QueryError(NewsArchiveError, ValueError):
    """A search query that cannot be run; the message says why and where."""

    def __init__(self, message: str, query: str = "", position: int | None = None) -> None:
        if position is not None and query:
            position = min(position, len(query))
            start = max(0, position - _SHOWN)
            shown = _printable(query[start : position + _SHOWN])
            lead = "…" if start else ""
            message = (
                f"{message} (at character {position + 1})\n  {lead}{shown}\n  {' ' * (len(lead) + position - start)}^"
            )
        super().__init__(message)
        self.position = position


@dataclass(frozen=True)
class Term:
    """Tokens that must appear in this order (one token: a word), in ``fields`` (empty: any text field)."""

    tokens: tuple[str, ...]
    fields: tuple[str, ...] = ()
    prefix: bool = False


@dataclass(frozen=True)
class AllOf:
    """Every one of ``parts`` matches, and none of ``excluded``."""

    parts: tuple[Node, ...]
    excluded: tuple[Node, ...] = ()


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Node, ...]


Node = Term | AllOf | AnyOf


@dataclass(frozen=True)
class Filter:
    """An SQL condition on the whole query: the outlet or language is one of ``values``, or the
    publication day lies in ``[low, high]`` (None: open); ``negated`` turns it around."""

    name: str
    values: tuple[str, ...] = ()
    low: str | None = None
    high: str | None = None
    negated: bool = False


@dataclass(frozen=True)
class Query:
    """A parsed query: the words to look for (None: every article the filters let through) and the filters."""

    source: str
    text: Node | None
    filters: tuple[Filter, ...] = field(default=())

    def fts5(self) -> str | None:
        """The FTS5 MATCH expression of the words (columns ``title``, ``author``, ``text``)."""
        return None if self.text is None else _fts5(self.text)

    def tsquery(self) -> str | None:
        """The text for PostgreSQL's ``to_tsquery(config, ...)``, fields as weights (:data:`TEXT_FIELDS`)."""
        return None if self.text is None else _tsquery(self.text)

    def tokens(self) -> set[str]:
        """Every token the words look for."""
        return set() if self.text is None else _tokens(self.text)

    def paired_tsqueries(self, lexemes: Mapping[str, str], unpaired: str) -> tuple[str, str] | None:
        """Two ``tsquery`` s (their input text, taken as it is) of the words given their lexemes in one
        configuration, for a query with a phrase: in the documents holding pairs of words
        (:mod:`archive.search.schema`; not ``unpaired``), each phrase as its pairs, since a document holding
        ``" a b"`` has ``b`` right after ``a`` (so a two-word phrase needs no positions); in the others, by
        positions. None for a query without a phrase to pair."""
        if self.text is None:
            return None
        paired, positions = _tsquery(self.text, lexemes, paired=True), _tsquery(self.text, lexemes)
        if paired == positions:
            return None
        return f"{paired} & !{_quoted(unpaired)}", f"{_quoted(unpaired)} & {positions}"


def parse_query(source: str) -> Query:
    """The query parsed and checked, or a :class:`QueryError` saying what is wrong and where."""
    _check_text(source)
    with _PARSER_LOCK:
        try:
            parsed = parser.parse(source)
        except IllegalCharacterError as e:
            position = _position(e, source)
            reason = "a quote is not closed" if source[position:].startswith('"') else "a character cannot be read"
            raise QueryError(f"bad query: {reason}", source, position) from None
        except ParseError as e:
            raise QueryError(f"bad query: {_reason(e)}", source, _position(e, source)) from None
    builder = _Builder(source)
    text, filters = builder.top(parsed)
    if text is None and not filters:
        raise QueryError("the query has no words to look for", source, 0)
    if text is None and all(f.negated for f in filters):
        raise QueryError("the query only excludes: say what to look for too", source, 0)
    return Query(source, text, tuple(filters))


def _check_text(source: str) -> None:
    if not source.strip():
        raise QueryError("the query is empty: give words to look for")
    if len(source) > MAX_QUERY_LENGTH:
        raise QueryError(f"the query is {len(source):,} characters long; at most {MAX_QUERY_LENGTH:,} are allowed")
    for position, char in enumerate(source):
        if "\ud800" <= char <= "\udfff":
            raise QueryError("the query is not valid text (bytes that are not UTF-8)", source, position)
        if char < " " and char not in "\t\n\r":
            raise QueryError("the query holds a control character", source, position)
    depth = 0
    for position, char in enumerate(source):
        depth += char in "([{"
        depth -= char in ")]}"
        if depth > MAX_DEPTH:
            raise QueryError(f"the query nests parentheses deeper than {MAX_DEPTH}", source, position)


def _printable(text: str) -> str:
    """The text as it can be printed: bytes that were not UTF-8 (surrogates) and control characters as \ufffd."""
    return "".join("\ufffd" if ("\ud800" <= c <= "\udfff" or c < " ") else c for c in text)


def _position(error: ParseError, source: str) -> int:
    found = _POSITION.search(str(error))
    return int(found.group(1)) if found else len(source)


def _reason(error: ParseError) -> str:
    message = str(error)
    if "end of expression" in message:
        return "the query ends too early (a parenthesis not closed, or an operator with nothing after it)"
    found = re.search(r"unexpected\s+'(.*)' at", message)
    return f"{found.group(1)!r} is not expected here" if found else "it cannot be parsed"


class _Builder:
    """Walks luqum's tree into :class:`Node` s and :class:`Filter` s, counting the words looked for."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.terms = 0

    def fail(self, message: str, item: tree.Item) -> QueryError:
        return QueryError(message, self.source, item.pos)

    def top(self, item: tree.Item) -> tuple[Node | None, list[Filter]]:
        """The top-level conjunction: its filters apart, the rest as text."""
        while isinstance(item, tree.Group):
            item = item.expr
        parts = list(item.children) if isinstance(item, tree.AndOperation | tree.UnknownOperation) else [item]
        filters: list[Filter] = []
        kept: list[tree.Item] = []
        for part in parts:
            negated, inner = _unwrap_not(part)
            if isinstance(inner, tree.SearchField) and inner.name.lower() in FILTER_FIELDS:
                filters.append(self.filter(inner, negated))
            else:
                kept.append(part)
        if not kept:
            return None, filters
        return self.conjunction(kept, fields=()), filters

    def node(self, item: tree.Item, fields: tuple[str, ...]) -> Node:
        if isinstance(item, tree.Group | tree.FieldGroup):
            return self.node(item.expr, fields)
        if isinstance(item, tree.AndOperation | tree.UnknownOperation):
            return self.conjunction(list(item.children), fields)
        if isinstance(item, tree.OrOperation):
            parts = []
            for child in item.children:
                if _unwrap_not(child)[0]:
                    raise self.fail("NOT cannot stand alone inside OR: write (a NOT b) OR c", child)
                parts.append(self.node(child, fields))
            return AnyOf(tuple(parts))
        if isinstance(item, tree.Not | tree.Prohibit):
            raise self.fail("NOT needs something to exclude from: write a NOT b", item)
        if isinstance(item, tree.Plus):
            return self.node(item.a, fields)
        if isinstance(item, tree.SearchField):
            return self.field(item, fields)
        if isinstance(item, tree.Word | tree.Phrase):
            return self.term(item, fields)
        if isinstance(item, tree.Range | tree.From | tree.To):
            raise self.fail("a range only makes sense for published:", item)
        if isinstance(item, tree.Fuzzy | tree.Proximity | tree.Regex | tree.Boost):
            raise self.fail("fuzzy (~), proximity, boost (^) and regular expressions are not supported", item)
        raise self.fail("this part of the query cannot be searched", item)

    def conjunction(self, children: list[tree.Item], fields: tuple[str, ...]) -> Node:
        parts: list[Node] = []
        excluded: list[Node] = []
        for child in children:
            negated, inner = _unwrap_not(child)
            if isinstance(inner, tree.SearchField) and inner.name.lower() in FILTER_FIELDS:
                raise self.fail(_NARROWS.format(inner.name), inner)
            (excluded if negated else parts).append(self.node(inner, fields))
        if not parts:
            raise self.fail("the query only excludes here: say what to look for too", children[0])
        if len(parts) == 1 and not excluded:
            return parts[0]
        return AllOf(tuple(parts), tuple(excluded))

    def field(self, item: tree.SearchField, fields: tuple[str, ...]) -> Node:
        name = item.name.lower()
        if name in FILTER_FIELDS:
            raise self.fail(
                f"{item.name}: narrows the whole query: join it to the rest with AND at the top level", item
            )
        if name not in TEXT_FIELDS:
            known = ", ".join(f"{f}:" for f in (*TEXT_FIELDS, *FILTER_FIELDS))
            raise self.fail(f"unknown field {item.name}: (known: {known})", item)
        if fields and fields != (name,):
            raise self.fail(f"{item.name}: inside {fields[0]}: cannot both hold", item)
        return self.node(item.expr, (name,))

    def term(self, item: tree.Word | tree.Phrase, fields: tuple[str, ...]) -> Term:
        value = item.value
        prefix = False
        if isinstance(item, tree.Phrase):
            value = value[1:-1]
        else:
            if "?" in value or "*" in value.rstrip("*"):
                raise self.fail("a wildcard can only end a word (prefix*)", item)
            prefix = value.endswith("*")
            value = value.rstrip("*")
        tokens = tuple(t.casefold() for t in _TOKEN.findall(value))
        if not tokens:
            raise self.fail(f"{item.value} holds no letters or digits to look for", item)
        self.terms += len(tokens)
        if self.terms > MAX_TERMS:
            raise self.fail(f"the query looks for more than {MAX_TERMS} words", item)
        if prefix and len(tokens[-1]) < 2:
            raise self.fail("a prefix* needs at least two letters", item)
        return Term(tokens, fields, prefix)

    def filter(self, item: tree.SearchField, negated: bool) -> Filter:
        name = item.name.lower()
        expr = item.expr
        if name == "published":
            return self.dates(expr, negated)
        values = []
        for value in self.alternatives(expr):
            if not isinstance(value, tree.Word | tree.Phrase):
                raise self.fail(f"{name}: takes a name, or names joined by OR", value)
            text = value.value[1:-1] if isinstance(value, tree.Phrase) else value.value
            if not text.strip() or "*" in text:
                raise self.fail(f"{name}: takes a whole name", value)
            values.append(text.strip().casefold())
        return Filter(name, tuple(values), negated=negated)

    def alternatives(self, expr: tree.Item) -> list[tree.Item]:
        while isinstance(expr, tree.Group | tree.FieldGroup):
            expr = expr.expr
        if isinstance(expr, tree.OrOperation):
            return [v for child in expr.children for v in self.alternatives(child)]
        return [expr]

    def dates(self, expr: tree.Item, negated: bool) -> Filter:
        if isinstance(expr, tree.Word):
            day = self.day(expr)
            return Filter("published", low=day, high=day, negated=negated)
        if isinstance(expr, tree.Range):
            low, high = self.day(expr.low), self.day(expr.high)
            if low and not expr.include_low:
                low = _next_day(low, 1)
            if high and not expr.include_high:
                high = _next_day(high, -1)
            if low and high and low > high:
                raise self.fail("published: the range ends before it starts", expr)
            return Filter("published", low=low, high=high, negated=negated)
        if isinstance(expr, tree.From | tree.To):
            day = self.day(expr.a)
            if not expr.include and day:
                day = _next_day(day, 1 if isinstance(expr, tree.From) else -1)
            low, high = (day, None) if isinstance(expr, tree.From) else (None, day)
            return Filter("published", low=low, high=high, negated=negated)
        raise self.fail("published: takes a day (2019-02-28) or a range [2019-02-27 TO 2019-03-01]", expr)

    def day(self, item: tree.Item) -> str | None:
        value = getattr(item, "value", "")
        if value == "*":
            return None
        try:
            if not _DAY.fullmatch(value):
                raise ValueError
            return date.fromisoformat(value).isoformat()
        except ValueError:
            raise self.fail(f"published: {value!r} is not a day written YYYY-MM-DD", item) from None


def _unwrap_not(item: tree.Item) -> tuple[bool, tree.Item]:
    if isinstance(item, tree.Not | tree.Prohibit):
        return True, item.a
    return False, item


def _next_day(day: str, step: int) -> str:
    return date.fromordinal(date.fromisoformat(day).toordinal() + step).isoformat()


def _fts5(node: Node) -> str:
    if isinstance(node, Term):
        phrase = " + ".join(f'"{token}"' for token in node.tokens) + (" *" if node.prefix else "")
        # never the facts column (archive.search.schema): a word is looked for in the text fields only
        return f"{{{' '.join(node.fields or tuple(TEXT_FIELDS))}}} : ({phrase})"
    if isinstance(node, AnyOf):
        return "(" + " OR ".join(_fts5(part) for part in node.parts) + ")"
    positive = "(" + " AND ".join(_fts5(part) for part in node.parts) + ")"
    if node.excluded:
        return f"({positive} NOT ({' OR '.join(_fts5(part) for part in node.excluded)}))"
    return positive


def _tsquery(node: Node, lexemes: Mapping[str, str] | None = None, paired: bool = False) -> str:
    """``to_tsquery`` 's text (the tokens, to be normalized), or with ``lexemes`` a ``tsquery`` 's, phrases
    ``paired`` or not."""
    if isinstance(node, Term):
        words = [lexemes[token] for token in node.tokens] if lexemes is not None else list(node.tokens)
        weights = "".join(TEXT_FIELDS[f] for f in node.fields)
        last = len(words) - 1
        operands = []
        for i, word in enumerate(words):
            flags = ("*" if node.prefix and i == last else "") + weights
            operands.append(_quoted(word) + (f":{flags}" if flags else ""))
        phrase = "(" + " <-> ".join(operands) + ")"
        # pairs carry no weights, and a prefix's are not indexed
        pairs = [_quoted(f" {a} {b}") for a, b in zip(words, words[1 : last if node.prefix else None], strict=False)]
        if not paired or node.fields or not pairs:
            return phrase
        if len(words) == 2 and not node.prefix:
            return pairs[0]
        return "(" + " & ".join(pairs) + f" & {phrase})"
    if isinstance(node, AnyOf):
        return "(" + " | ".join(_tsquery(part, lexemes, paired) for part in node.parts) + ")"
    text = " & ".join(_tsquery(part, lexemes, paired) for part in node.parts)
    text += "".join(f" & !{_tsquery(part, lexemes, paired)}" for part in node.excluded)
    return f"({text})"


def _quoted(lexeme: str) -> str:
    """A lexeme as ``tsquery`` input quotes it."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def _tokens(node: Node) -> set[str]:
    if isinstance(node, Term):
        return set(node.tokens)
    parts = (*node.parts, *node.excluded) if isinstance(node, AllOf) else node.parts
    return {token for part in parts for token in _tokens(part)}
