"""An Elasticsearch 9 node in memory, at the transport layer: ``FakeNode`` is an
``elastic_transport.BaseNode``, so the real ``elasticsearch`` client (and django-elasticsearch-dsl
over it) serialise, send, check the product header and deserialise exactly as against a server.
Point the client at it with ``SEARCH_ELASTICSEARCH_NODE_CLASS = "search.tests.fake_es.FakeNode"``
and set ``FakeNode.cluster`` to a ``FakeCluster``.

What it serves: index create/delete/exists/get, mappings, aliases (``_aliases`` actions applied
all-or-nothing, ``_alias`` get/exists), ``_bulk`` (NDJSON, per-item results, ``require_alias``,
external versioning, auto-creation of a missing concrete index as a real cluster does),
``_refresh`` (documents are searchable at once), ``_doc`` get and ``_search`` over the subset of
the query DSL the backend sends: bool (must/should/filter/must_not/minimum_should_match),
match_all, term, terms, range (with ``now``), exists, match, multi_match (per-field boosts,
``analyzer``, ``fuzziness`` with ``prefix_length``, best_fields), fuzzy, prefix; ``post_filter``;
filter/filters/terms/range aggregations; sort by field, ``_score`` and known scripts; from/size;
``track_total_hits``; ``_source`` filtering. Anything else answers 400, so a query the fake
doesn't know fails a test instead of passing silently.

Analysis runs the index's declared chains. Tokenizers: standard (letters, digits and
combining marks), whitespace, keyword.
Filters: lowercase, asciifolding (Latin accents), decimal_digit, arabic_normalization (Lucene's
ArabicNormalizer: آ أ إ → ا, ى → ي, ة → ه, harakat and tatweel removed), stemmer with language
arabic (``search.normalize.stem``, which implements Lucene's light ArabicStemmer rules) and
edge_ngram. An analyzer naming another filter is refused at index creation (400), as a real
cluster refuses an unknown one. Scores are BM25 (k1 1.2, b 0.75) per field times the boosts;
a fuzzy match counts ``1 - edits / shorter length`` of an exact one, as Lucene's fuzzy rewrite
does. Scripts can't run here: a sort script is looked up by its exact source in
``FakeCluster.scripts`` (a Python equivalent the test registers).

Faults: ``fail("connection" | "timeout" | 429 | 5xx, times=..., match=...)`` before a request
is handled; ``fail_items({doc_id: status})`` makes those bulk items fail; ``on(match, callback)``
runs a callback just before a matching request (to act "between two steps" of a caller).
Every request is recorded (method, path, params, parsed body) for golden tests.
"""

import json
import math
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from django.utils import timezone
from elastic_transport import (
    ApiResponseMeta,
    BaseNode,
    ConnectionError,
    ConnectionTimeout,
    HttpHeaders,
    NodeConfig,
)
from elastic_transport._node import NodeApiResponse

from search.normalize import stem

HEADERS = {
    "x-elastic-product": "Elasticsearch",
    "content-type": "application/vnd.elasticsearch+json;compatible-with=9",
}
K1, B = 1.2, 0.75
# Lucene's ArabicNormalizer.
_ARABIC_MAP = str.maketrans({"آ": "ا", "أ": "ا", "إ": "ا", "ى": "ي", "ة": "ه"})
_ARABIC_DROP = {"ـ", *(chr(c) for c in range(0x064B, 0x0653))}


class FakeError(Exception):
    def __init__(self, status: int, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.status, self.kind, self.reason = status, kind, reason

    def body(self) -> dict[str, Any]:
        cause = {"type": self.kind, "reason": self.reason}
        return {"error": {"root_cause": [cause], **cause}, "status": self.status}


def bad_request(reason: str) -> FakeError:
    return FakeError(400, "parsing_exception", reason)


# --- analysis -----------------------------------------------------------------------------


def _asciifold(token: str) -> str:
    out = []
    for char in token:
        decomposed = unicodedata.normalize("NFD", char)
        out.append(decomposed[0] if decomposed[0].isascii() and len(decomposed) > 1 else char)
    return "".join(out)


def _decimal_digit(token: str) -> str:
    return "".join(
        str(unicodedata.decimal(c)) if unicodedata.category(c) == "Nd" else c for c in token
    )


def _arabic_normalization(token: str) -> str:
    return "".join(c for c in token.translate(_ARABIC_MAP) if c not in _ARABIC_DROP)


def _standard(text: str) -> list[str]:
    """Words of letters and digits, combining marks kept inside them (UAX #29 keeps كُتُب whole,
    as Lucene's standard tokenizer does; Python's ``\\w`` alone would split it at each mark)."""
    tokens, current = [], []
    for char in text:
        if char.isalnum() or char == "_" or unicodedata.category(char) in ("Mn", "Mc"):
            current.append(char)
        elif current:
            tokens.append("".join(current))
            current = []
    if current:
        tokens.append("".join(current))
    return tokens


TOKENIZERS: dict[str, Callable[[str], list[str]]] = {
    "standard": _standard,
    "whitespace": str.split,
    "keyword": lambda text: [text],
}
SIMPLE_FILTERS: dict[str, Callable[[str], str]] = {
    "lowercase": str.lower,
    "asciifolding": _asciifold,
    "decimal_digit": _decimal_digit,
    "arabic_normalization": _arabic_normalization,
}
BUILTIN_ANALYZERS = {
    "standard": {"tokenizer": "standard", "filter": ["lowercase"]},
    "whitespace": {"tokenizer": "whitespace", "filter": []},
    "keyword": {"tokenizer": "keyword", "filter": []},
}


def _token_filter(name: str, definitions: dict[str, Any]) -> Callable[[list[str]], list[str]]:
    if name in SIMPLE_FILTERS:
        simple = SIMPLE_FILTERS[name]
        return lambda tokens: [simple(t) for t in tokens]
    spec = definitions.get(name)
    if spec is None:
        raise bad_request(f"failed to find filter under name [{name}]")
    kind = spec.get("type")
    if kind == "stemmer" and spec.get("language") == "arabic":
        return lambda tokens: [stem(t) for t in tokens]
    if kind == "edge_ngram":
        low, high = int(spec.get("min_gram", 1)), int(spec.get("max_gram", 2))
        return lambda tokens: [t[:n] for t in tokens for n in range(low, min(high, len(t)) + 1)]
    raise bad_request(f"the fake has no token filter like {spec}")


@dataclass
class Analyzer:
    tokenizer: Callable[[str], list[str]]
    filters: list[Callable[[list[str]], list[str]]]

    def __call__(self, text: str) -> list[str]:
        tokens = self.tokenizer(text)
        for token_filter in self.filters:
            tokens = [t for t in token_filter(tokens) if t]
        return tokens


def _build_analyzer(spec: dict[str, Any], filters: dict[str, Any]) -> Analyzer:
    tokenizer = spec.get("tokenizer", "keyword")
    if tokenizer not in TOKENIZERS:
        raise bad_request(f"failed to find tokenizer under name [{tokenizer}]")
    return Analyzer(
        TOKENIZERS[tokenizer], [_token_filter(f, filters) for f in spec.get("filter", [])]
    )


# --- indices ------------------------------------------------------------------------------


@dataclass
class Stored:
    source: dict[str, Any]
    version: int


class FakeIndex:
    def __init__(self, name: str, body: dict[str, Any]) -> None:
        self.name = name
        settings = body.get("settings", {})
        self.settings = settings
        analysis = settings.get("analysis") or settings.get("index", {}).get("analysis", {})
        self.analysis = analysis
        filters = analysis.get("filter", {})
        self.analyzers = {
            name: _build_analyzer(spec, filters)
            for name, spec in {**BUILTIN_ANALYZERS, **analysis.get("analyzer", {})}.items()
        }
        self.normalizers = {
            name: _build_analyzer({"tokenizer": "keyword", **spec}, filters)
            for name, spec in analysis.get("normalizer", {}).items()
        }
        self.properties: dict[str, Any] = {}
        self.put_mapping(body.get("mappings", {}))
        self.docs: dict[str, Stored] = {}
        self.tombstones: dict[str, int] = {}
        self._tokens: dict[tuple[str, str], list[str]] = {}

    def put_mapping(self, mapping: dict[str, Any]) -> None:
        properties = mapping.get("properties", {})
        for spec in _walk(properties):
            for key in ("analyzer", "search_analyzer"):
                if key in spec and spec[key] not in self.analyzers:
                    raise FakeError(
                        400,
                        "mapper_parsing_exception",
                        f"analyzer [{spec[key]}] has not been configured in mappings",
                    )
            if "normalizer" in spec and spec["normalizer"] not in self.normalizers:
                raise FakeError(
                    400, "mapper_parsing_exception", f"normalizer [{spec['normalizer']}] not found"
                )
        self.properties.update(properties)

    def mapping_of(self, path: str) -> dict[str, Any] | None:
        head, _, sub = path.partition(".")
        spec = self.properties.get(head)
        if spec is None or not sub:
            return spec
        return spec.get("fields", {}).get(sub)

    def put(self, doc_id: str, source: dict[str, Any], version: int) -> None:
        self.docs[doc_id] = Stored(source, version)
        self.tombstones.pop(doc_id, None)
        self._forget(doc_id)

    def delete(self, doc_id: str, version: int) -> bool:
        existed = self.docs.pop(doc_id, None) is not None
        self.tombstones[doc_id] = version
        self._forget(doc_id)
        return existed

    def _forget(self, doc_id: str) -> None:
        for key in [k for k in self._tokens if k[0] == doc_id]:
            del self._tokens[key]

    def raw(self, doc_id: str, path: str) -> list[Any]:
        value = self.docs[doc_id].source.get(path.partition(".")[0])
        if value is None:
            return []
        values = value if isinstance(value, list) else [value]
        return [v for v in values if v is not None]

    def tokens(self, doc_id: str, path: str) -> list[str]:
        key = (doc_id, path)
        if key not in self._tokens:
            spec = self.mapping_of(path) or {}
            self._tokens[key] = [
                token for value in self.raw(doc_id, path) for token in self.index_terms(spec, value)
            ]
        return self._tokens[key]

    def index_terms(self, spec: dict[str, Any], value: Any) -> list[str]:
        kind = spec.get("type", "keyword")
        if kind == "text":
            return self.analyzers[spec.get("analyzer", "standard")](str(value))
        if kind == "keyword":
            if "normalizer" in spec:
                return ["".join(self.normalizers[spec["normalizer"]](str(value)))]
            return [str(value)]
        return [str(value)]

    def search_analyzer(self, spec: dict[str, Any]) -> Analyzer:
        return self.analyzers[spec.get("search_analyzer", spec.get("analyzer", "standard"))]


def _walk(properties: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for spec in properties.values():
        yield spec
        yield from spec.get("fields", {}).values()
        yield from _walk(spec.get("properties", {}))


# --- values -------------------------------------------------------------------------------


def _date(value: Any, now: datetime) -> float:
    if isinstance(value, int | float):
        return float(value) / 1000
    text = str(value)
    if text.startswith("now"):
        if text != "now":
            raise bad_request(f"the fake knows only plain 'now', not [{text}]")
        return now.timestamp()
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _typed(spec: dict[str, Any], value: Any, now: datetime) -> Any:
    kind = spec.get("type", "keyword")
    if kind in ("long", "integer", "short", "byte"):
        return int(value)
    if kind in ("double", "float"):
        return float(value)
    if kind == "scaled_float":
        factor = spec["scaling_factor"]
        return round(float(value) * factor) / factor
    if kind == "boolean":
        if isinstance(value, str):
            return value == "true"
        return bool(value)
    if kind == "date":
        return _date(value, now)
    return str(value)


def edit_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein (optimal string alignment), as Lucene's fuzzy query counts a
    transposition as one edit."""
    rows = [list(range(len(b) + 1))] + [[i] + [0] * len(b) for i in range(1, len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            rows[i][j] = min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                rows[i][j] = min(rows[i][j], rows[i - 2][j - 2] + 1)
    return rows[len(a)][len(b)]


def _fuzziness(value: Any, term: str) -> int:
    if value in (None, 0, "0"):
        return 0
    if str(value).upper() == "AUTO":
        return 0 if len(term) <= 2 else 1 if len(term) <= 5 else 2
    return int(value)


# --- search -------------------------------------------------------------------------------


class Searcher:
    """One search over the documents of some indices (an alias may name several)."""

    def __init__(self, cluster: "FakeCluster", indices: list[FakeIndex]) -> None:
        self.cluster = cluster
        self.now = cluster.now()
        self.docs = [(index, doc_id) for index in indices for doc_id in sorted(index.docs)]
        self._stats: dict[str, tuple[int, float, Counter[str]]] = {}

    # Relevance -----------------------------------------------------------------------------

    def _field_stats(self, path: str) -> tuple[int, float, Counter[str]]:
        if path not in self._stats:
            lengths, df = [], Counter[str]()
            for index, doc_id in self.docs:
                tokens = index.tokens(doc_id, path)
                if tokens:
                    lengths.append(len(tokens))
                    df.update(set(tokens))
            average = sum(lengths) / len(lengths) if lengths else 1.0
            self._stats[path] = (len(lengths), average, df)
        return self._stats[path]

    def bm25(self, index: FakeIndex, doc_id: str, path: str, term: str) -> float:
        tokens = index.tokens(doc_id, path)
        tf = tokens.count(term)
        if not tf:
            return 0.0
        count, average, df = self._field_stats(path)
        idf = math.log(1 + (count - df[term] + 0.5) / (df[term] + 0.5))
        return idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * len(tokens) / average))

    def term_score(
        self, index: FakeIndex, doc_id: str, path: str, term: str, edits: int, prefix_length: int
    ) -> float | None:
        """The best score of ``term`` in the field, exact or within ``edits``; None: absent."""
        tokens = index.tokens(doc_id, path)
        if term in tokens:
            return self.bm25(index, doc_id, path, term)
        best: float | None = None
        if edits:
            for token in set(tokens):
                if token[:prefix_length] != term[:prefix_length]:
                    continue
                distance = edit_distance(token, term)
                if distance <= edits:
                    weight = 1 - distance / min(len(token), len(term))
                    score = self.bm25(index, doc_id, path, token) * max(weight, 0.0)
                    best = score if best is None else max(best, score)
        return best

    # Queries -------------------------------------------------------------------------------

    def matches(self, query: dict[str, Any], index: FakeIndex, doc_id: str) -> float | None:
        """The document's score for ``query``, None when it doesn't match."""
        if len(query) != 1:
            raise bad_request(f"a query has exactly one kind: {list(query)}")
        ((kind, spec),) = query.items()
        handler = getattr(self, f"q_{kind}", None)
        if handler is None:
            raise bad_request(f"unknown query [{kind}] (not in the fake's subset)")
        return handler(spec, index, doc_id)

    def q_match_all(self, spec: dict[str, Any], index: FakeIndex, doc_id: str) -> float:
        return float(spec.get("boost", 1.0))

    def q_bool(self, spec: dict[str, Any], index: FakeIndex, doc_id: str) -> float | None:
        known = {"must", "should", "filter", "must_not", "minimum_should_match", "boost"}
        if set(spec) - known:
            raise bad_request(f"unknown bool keys {set(spec) - known}")

        def clauses(key: str) -> list[dict[str, Any]]:
            value = spec.get(key, [])
            return value if isinstance(value, list) else [value]

        score = 0.0
        for clause in clauses("must"):
            found = self.matches(clause, index, doc_id)
            if found is None:
                return None
            score += found
        for clause in clauses("filter"):
            if self.matches(clause, index, doc_id) is None:
                return None
        for clause in clauses("must_not"):
            if self.matches(clause, index, doc_id) is not None:
                return None
        should = clauses("should")
        default = 0 if (clauses("must") or clauses("filter")) else 1
        required = int(spec.get("minimum_should_match", default if should else 0))
        matched = 0
        for clause in should:
            found = self.matches(clause, index, doc_id)
            if found is not None:
                matched += 1
                score += found
        if matched < required:
            return None
        return score * float(spec.get("boost", 1.0))

    def _single(self, spec: dict[str, Any], key: str) -> tuple[str, dict[str, Any]]:
        options = {k: v for k, v in spec.items() if k not in ("boost", "_name")}
        if len(options) != 1:
            raise bad_request(f"[{key}] query takes one field")
        ((path, value),) = options.items()
        if not isinstance(value, dict):
            value = {key: value}
        return path, {"boost": spec.get("boost", 1.0), **value}

    def _values(self, index: FakeIndex, doc_id: str, path: str) -> list[Any]:
        spec = index.mapping_of(path)
        if spec is None:
            return []
        if spec.get("type") in ("text", "keyword"):
            return index.tokens(doc_id, path)
        return [_typed(spec, v, self.now) for v in index.raw(doc_id, path)]

    def _query_value(self, index: FakeIndex, path: str, value: Any) -> Any:
        spec = index.mapping_of(path) or {}
        if spec.get("type") == "keyword" and "normalizer" in spec:
            return "".join(index.normalizers[spec["normalizer"]](str(value)))
        if spec.get("type") in ("text", "keyword", None):
            return str(value)
        return _typed(spec, value, self.now)

    def q_term(self, spec: dict[str, Any], index: FakeIndex, doc_id: str) -> float | None:
        path, options = self._single(spec, "value")
        wanted = self._query_value(index, path, options["value"])
        if wanted not in self._values(index, doc_id, path):
            return None
        mapping = index.mapping_of(path) or {}
        if mapping.get("type") == "text":
            return self.bm25(index, doc_id, path, wanted) * float(options["boost"])
        return float(options["boost"])

    def q_terms(self, spec: dict[str, Any], index: FakeIndex, doc_id: str) -> float | None:
        options = {k: v for k, v in spec.items() if k != "boost"}
        ((path, wanted),) = options.items()
        have = self._values(index, doc_id, path)
        if any(self._query_value(index, path, w) in have for w in wanted):
            return float(spec.get("boost", 1.0))
        return None

    def q_range(self, spec: dict[str, Any], index: FakeIndex, doc_id: str) -> float | None:
        ((path, bounds),) = spec.items()
        mapping = index.mapping_of(path) or {}
        checks = {"gte": float.__ge__, "gt": float.__gt__, "lte": float.__le__, "lt": float.__lt__}
        unknown = set(bounds) - set(checks) - {"boost"}
        if unknown:
            raise bad_request(f"unknown range keys {unknown}")
        for value in self._values(index, doc_id, path):
            if all(
                check(float(value), float(_typed(mapping, bounds[key], self.now)))
                for key, check in checks.items()
                if key in bounds
            ):
                return float(bounds.get("boost", 1.0))
        return None

    def q_exists(self, spec: dict[str, Any], index: FakeIndex, doc_id: str) -> float | None:
        return 1.0 if index.raw(doc_id, spec["field"]) else None

    def _text_score(
        self, index: FakeIndex, doc_id: str, path: str, text: str, options: dict[str, Any]
    ) -> float | None:
        mapping = index.mapping_of(path)
        if mapping is None:
            return None
        analyzer = (
            index.analyzers[options["analyzer"]]
            if "analyzer" in options
            else index.search_analyzer(mapping)
        )
        terms = (
            analyzer(text)
            if mapping.get("type") == "text"
            else [self._query_value(index, path, text)]
        )
        prefix_length = int(options.get("prefix_length", 0))
        scores = [
            self.term_score(
                index, doc_id, path, t, _fuzziness(options.get("fuzziness"), t), prefix_length
            )
            for t in terms
        ]
        found = [s for s in scores if s is not None]
        if not found or (
            options.get("operator", "or").lower() == "and" and len(found) < len(scores)
        ):
            return None
        return sum(found)

    def q_match(self, spec: dict[str, Any], index: FakeIndex, doc_id: str) -> float | None:
        path, options = self._single(spec, "query")
        score = self._text_score(index, doc_id, path, str(options["query"]), options)
        return None if score is None else score * float(options["boost"])

    def q_multi_match(self, spec: dict[str, Any], index: FakeIndex, doc_id: str) -> float | None:
        if spec.get("type", "best_fields") != "best_fields":
            raise bad_request("the fake's multi_match knows best_fields only")
        scores = []
        for entry in spec["fields"]:
            path, _, weight = entry.partition("^")
            score = self._text_score(index, doc_id, path, str(spec["query"]), spec)
            if score is not None:
                scores.append(score * float(weight or 1))
        if not scores:
            return None
        best = max(scores)
        tie = float(spec.get("tie_breaker", 0.0))
        return (best + tie * (sum(scores) - best)) * float(spec.get("boost", 1.0))

    def q_fuzzy(self, spec: dict[str, Any], index: FakeIndex, doc_id: str) -> float | None:
        path, options = self._single(spec, "value")
        term = str(options["value"])
        edits = _fuzziness(options.get("fuzziness", "AUTO"), term)
        score = self.term_score(
            index, doc_id, path, term, edits, int(options.get("prefix_length", 0))
        )
        return None if score is None else score * float(options["boost"])

    def q_prefix(self, spec: dict[str, Any], index: FakeIndex, doc_id: str) -> float | None:
        path, options = self._single(spec, "value")
        start = str(options["value"])
        if any(str(v).startswith(start) for v in self._values(index, doc_id, path)):
            return float(options["boost"])
        return None

    # Aggregations --------------------------------------------------------------------------

    def aggregate(self, aggs: dict[str, Any], docs: list[tuple[FakeIndex, str]]) -> dict[str, Any]:
        return {name: self._aggregation(spec, docs) for name, spec in aggs.items()}

    def _aggregation(
        self, spec: dict[str, Any], docs: list[tuple[FakeIndex, str]]
    ) -> dict[str, Any]:
        sub = spec.get("aggs", spec.get("aggregations", {}))
        kinds = [k for k in spec if k not in ("aggs", "aggregations", "meta")]
        if len(kinds) != 1:
            raise bad_request(f"an aggregation has one kind: {kinds}")
        kind = kinds[0]
        body = spec[kind]

        def bucket(selected: list[tuple[FakeIndex, str]], **extra: Any) -> dict[str, Any]:
            return {**extra, "doc_count": len(selected), **self.aggregate(sub, selected)}

        def where(query: dict[str, Any]) -> list[tuple[FakeIndex, str]]:
            return [(i, d) for i, d in docs if self.matches(query, i, d) is not None]

        if kind == "filter":
            return bucket(where(body))
        if kind == "filters":
            filters = body["filters"]
            if isinstance(filters, dict):
                return {"buckets": {key: bucket(where(q)) for key, q in filters.items()}}
            return {"buckets": [bucket(where(q)) for q in filters]}
        if kind == "terms":
            path = body["field"]
            per_value: dict[Any, list[tuple[FakeIndex, str]]] = {}
            for index, doc_id in docs:
                for value in dict.fromkeys(self._values(index, doc_id, path)):
                    per_value.setdefault(value, []).append((index, doc_id))
            ordered = sorted(per_value.items(), key=lambda item: (-len(item[1]), item[0]))
            size = int(body.get("size", 10))
            buckets = []
            for value, selected in ordered[:size]:
                if isinstance(value, bool):
                    buckets.append(
                        bucket(selected, key=int(value), key_as_string=str(value).lower())
                    )
                else:
                    buckets.append(bucket(selected, key=value))
            other = sum(len(s) for _, s in ordered[size:])
            return {
                "doc_count_error_upper_bound": 0,
                "sum_other_doc_count": other,
                "buckets": buckets,
            }
        if kind == "range":
            path = body["field"]
            buckets = []
            for bounds in body["ranges"]:
                low, high = bounds.get("from"), bounds.get("to")
                selected = [
                    (i, d)
                    for i, d in docs
                    if any(
                        (low is None or float(v) >= low) and (high is None or float(v) < high)
                        for v in self._values(i, d, path)
                    )
                ]
                key = bounds.get(
                    "key", f"{low if low is not None else '*'}-{high if high is not None else '*'}"
                )
                extra = {k: v for k, v in (("from", low), ("to", high)) if v is not None}
                buckets.append(bucket(selected, key=key, **extra))
            return {"buckets": buckets}
        raise bad_request(f"unknown aggregation [{kind}] (not in the fake's subset)")

    # Sorting -------------------------------------------------------------------------------

    def sort_keys(
        self, sort: list[Any], index: FakeIndex, doc_id: str, score: float
    ) -> list[tuple[Any, ...]]:
        keys = []
        for entry in sort:
            if isinstance(entry, str):
                entry = {entry: "desc" if entry == "_score" else "asc"}
            ((path, options),) = entry.items()
            if not isinstance(options, dict):
                options = {"order": options}
            descending = options.get("order", "asc") == "desc"
            value: Any
            if path == "_score":
                value = score
            elif path == "_script":
                script = options["script"]
                function = self.cluster.scripts.get(script.get("source", ""))
                if function is None:
                    raise bad_request("the fake can't run this script: register its Python twin")
                value = function(index.docs[doc_id].source, script.get("params", {}), self.now)
            else:
                values = self._values(index, doc_id, path)
                values = [int(v) if isinstance(v, bool) else v for v in values]
                value = (max(values) if descending else min(values)) if values else None
            if value is None:
                keys.append((1, 0))  # missing values sort last either way
            elif descending:
                keys.append((0, _Reverse(value)))
            else:
                keys.append((0, value))
        return keys

    def sort_values(self, keys: list[tuple[Any, ...]]) -> list[Any]:
        out = []
        for missing, value in keys:
            if missing:
                out.append(None)
            else:
                out.append(value.value if isinstance(value, _Reverse) else value)
        return out


@dataclass(frozen=True)
class _Reverse:
    value: Any

    def __lt__(self, other: "_Reverse") -> bool:
        return bool(other.value < self.value)


# --- the cluster --------------------------------------------------------------------------


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, str]
    body: Any


@dataclass
class _Fault:
    kind: str | int
    times: int | None
    match: str | None


@dataclass
class _Hook:
    match: str
    callback: Callable[["FakeCluster", Request], None]
    once: bool = True


@dataclass
class FakeCluster:
    indices: dict[str, FakeIndex] = field(default_factory=dict)
    aliases: dict[str, set[str]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    scripts: dict[str, Callable[[dict[str, Any], dict[str, Any], datetime], Any]] = field(
        default_factory=dict
    )
    item_failures: dict[str, int] = field(default_factory=dict)
    clock: Callable[[], datetime] = timezone.now
    _faults: list[_Fault] = field(default_factory=list)
    _hooks: list[_Hook] = field(default_factory=list)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def now(self) -> datetime:
        return self.clock()

    # Faults and hooks ----------------------------------------------------------------------

    def fail(self, kind: str | int, *, times: int | None = 1, match: str | None = None) -> None:
        """The next ``times`` requests (None: every one, until ``heal``) whose "METHOD path"
        contains ``match`` fail: "connection" or "timeout" raise as the transport would, a
        number is answered with that status."""
        self._faults.append(_Fault(kind, times, match))

    def heal(self) -> None:
        self._faults.clear()
        self.item_failures.clear()

    def fail_items(self, failures: dict[int | str, int]) -> None:
        """Bulk items for these document ids fail with the given status (429 is a rejected
        execution, anything else a generic failure) until ``heal``."""
        self.item_failures.update({str(k): v for k, v in failures.items()})

    def on(
        self, match: str, callback: Callable[["FakeCluster", Request], None], *, once: bool = True
    ) -> None:
        """Run ``callback`` just before a request whose "METHOD path" contains ``match``."""
        self._hooks.append(_Hook(match, callback, once))

    def _take_fault(self, line: str) -> _Fault | None:
        for fault in self._faults:
            if fault.match is None or fault.match in line:
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                return fault
        return None

    # Inspection ----------------------------------------------------------------------------

    def requests_to(self, fragment: str, method: str | None = None) -> list[Request]:
        return [
            r
            for r in self.requests
            if fragment in r.path and (method is None or r.method == method)
        ]

    def resolve(self, name: str) -> list[FakeIndex]:
        found: list[FakeIndex] = []
        for part in name.split(","):
            if part in self.indices:
                found.append(self.indices[part])
            elif part in self.aliases:
                found += [self.indices[i] for i in sorted(self.aliases[part])]
            else:
                raise FakeError(404, "index_not_found_exception", f"no such index [{part}]")
        return found

    def source(self, name: str, doc_id: int | str) -> dict[str, Any] | None:
        """A document as stored in the one index ``name`` resolves to (None: absent)."""
        (index,) = self.resolve(name)
        stored = index.docs.get(str(doc_id))
        return stored.source if stored else None

    def ids(self, name: str) -> set[int]:
        return {int(doc_id) for index in self.resolve(name) for doc_id in index.docs}

    # Transport -----------------------------------------------------------------------------

    def perform(self, method: str, target: str, body: bytes | None) -> tuple[int, Any]:
        parts = urlsplit(target)
        path = parts.path
        params = dict(parse_qsl(parts.query))
        parsed: Any = None
        if body:
            text = body.decode("utf-8")
            if path.endswith("/_bulk"):
                parsed = [json.loads(line) for line in text.splitlines() if line.strip()]
            else:
                parsed = json.loads(text)
        request = Request(method, path, params, parsed)
        line = f"{method} {path}"
        for hook in list(self._hooks):
            if hook.match in line:
                if hook.once:
                    self._hooks.remove(hook)
                hook.callback(self, request)
        with self._lock:
            self.requests.append(request)
            fault = self._take_fault(line)
            if fault is not None:
                if fault.kind == "connection":
                    raise ConnectionError("fake: connection refused")
                if fault.kind == "timeout":
                    raise ConnectionTimeout("fake: timed out")
                status = int(fault.kind)
                kind = "es_rejected_execution_exception" if status == 429 else "fake_failure"
                return status, FakeError(status, kind, "fake fault").body()
            try:
                return self._route(request)
            except FakeError as exc:
                return exc.status, exc.body()

    def _route(self, request: Request) -> tuple[int, Any]:
        segments = [unquote(s) for s in request.path.strip("/").split("/") if s]
        method = request.method
        if not segments:
            return 200, {
                "name": "fake",
                "cluster_name": "fake",
                "version": {"number": "9.0.0"},
                "tagline": "You Know, for Search",
            }
        if segments == ["_bulk"] or segments[-1:] == ["_bulk"]:
            default = segments[0] if len(segments) == 2 else None
            return self._bulk(request, default)
        if segments == ["_aliases"] and method == "POST":
            return self._update_aliases(request.body or {})
        if segments[0] == "_alias" and len(segments) == 2:
            return self._get_alias(segments[1])
        if segments[-1] == "_refresh":
            if len(segments) == 2:
                self.resolve(segments[0])
            return 200, {"_shards": {"total": 1, "successful": 1, "failed": 0}}
        if len(segments) == 2 and segments[1] == "_search":
            return self._search(self.resolve(segments[0]), request.body or {})
        if len(segments) == 2 and segments[1] == "_mapping":
            indices = self.resolve(segments[0])
            if method == "PUT":
                for index in indices:
                    index.put_mapping(request.body or {})
                return 200, {"acknowledged": True}
            return 200, {i.name: {"mappings": {"properties": i.properties}} for i in indices}
        if len(segments) == 3 and segments[1] == "_doc" and method == "GET":
            (index,) = self.resolve(segments[0])
            stored = index.docs.get(segments[2])
            if stored is None:
                return 404, {"_index": index.name, "_id": segments[2], "found": False}
            return 200, {
                "_index": index.name,
                "_id": segments[2],
                "_version": stored.version,
                "found": True,
                "_source": stored.source,
            }
        if len(segments) == 1:
            return self._index(method, segments[0], request)
        raise bad_request(f"the fake doesn't serve {method} {request.path}")

    def _index(self, method: str, name: str, request: Request) -> tuple[int, Any]:
        if method == "HEAD":
            return (200 if name in self.indices or name in self.aliases else 404), None
        if method == "PUT":
            if name in self.indices or name in self.aliases:
                raise FakeError(
                    400, "resource_already_exists_exception", f"index [{name}] already exists"
                )
            if name != name.lower():
                raise FakeError(400, "invalid_index_name_exception", "must be lowercase")
            body = request.body or {}
            index = FakeIndex(name, body)
            self.indices[name] = index
            for alias_name in body.get("aliases", {}):
                self.aliases.setdefault(alias_name, set()).add(name)
            return 200, {"acknowledged": True, "shards_acknowledged": True, "index": name}
        if method == "DELETE":
            if name in self.aliases and name not in self.indices:
                raise FakeError(
                    400,
                    "illegal_argument_exception",
                    f"The provided expression [{name}] matches an alias, specify the corresponding"
                    " concrete indices instead.",
                )
            if name not in self.indices:
                if request.params.get("ignore_unavailable") == "true":
                    return 200, {"acknowledged": True}
                raise FakeError(404, "index_not_found_exception", f"no such index [{name}]")
            del self.indices[name]
            for members in self.aliases.values():
                members.discard(name)
            self.aliases = {a: m for a, m in self.aliases.items() if m}
            return 200, {"acknowledged": True}
        if method == "GET":
            return 200, {
                i.name: {
                    "aliases": {a: {} for a, m in self.aliases.items() if i.name in m},
                    "mappings": {"properties": i.properties},
                    "settings": i.settings,
                }
                for i in self.resolve(name)
            }
        raise bad_request(f"the fake doesn't serve {method} /{name}")

    def _get_alias(self, name: str) -> tuple[int, Any]:
        members = self.aliases.get(name)
        if not members:
            return 404, {"error": f"alias [{name}] missing", "status": 404}
        return 200, {index: {"aliases": {name: {}}} for index in sorted(members)}

    def _update_aliases(self, body: dict[str, Any]) -> tuple[int, Any]:
        aliases = {a: set(m) for a, m in self.aliases.items()}
        dropped: list[str] = []
        for action in body.get("actions", []):
            ((kind, spec),) = action.items()
            index = spec.get("index")
            if index not in self.indices or index in dropped:
                raise FakeError(404, "index_not_found_exception", f"no such index [{index}]")
            if kind == "add":
                aliases.setdefault(spec["alias"], set()).add(index)
            elif kind == "remove":
                if index not in aliases.get(spec["alias"], set()):
                    raise FakeError(
                        404, "aliases_not_found_exception", f"aliases [{spec['alias']}] missing"
                    )
                aliases[spec["alias"]].discard(index)
            elif kind == "remove_index":
                dropped.append(index)
            else:
                raise bad_request(f"unknown alias action [{kind}]")
        for index in dropped:
            del self.indices[index]
            for members in aliases.values():
                members.discard(index)
        self.aliases = {a: m for a, m in aliases.items() if m}
        return 200, {"acknowledged": True, "errors": False}

    def _write_index(self, name: str, require_alias: bool) -> FakeIndex:
        if name in self.aliases:
            members = self.aliases[name]
            if len(members) != 1:
                raise FakeError(
                    400,
                    "illegal_argument_exception",
                    f"no write index is defined for alias [{name}]",
                )
            return self.indices[next(iter(members))]
        if require_alias:
            raise FakeError(
                404,
                "index_not_found_exception",
                f"no such index [{name}] and [require_alias] request flag is [true] and [{name}]"
                " is not an alias",
            )
        if name not in self.indices:  # a real cluster auto-creates it, with dynamic mappings
            self.indices[name] = FakeIndex(name, {})
        return self.indices[name]

    def _bulk(self, request: Request, default: str | None) -> tuple[int, Any]:
        lines = list(request.body or [])
        require_alias = request.params.get("require_alias") == "true"
        items = []
        position = 0
        while position < len(lines):
            ((action, meta),) = lines[position].items()
            position += 1
            source = None
            if action in ("index", "create"):
                source = lines[position]
                position += 1
            elif action != "delete":
                raise bad_request(f"the fake's bulk knows index/create/delete, not [{action}]")
            items.append({action: self._bulk_item(action, meta, source, default, require_alias)})
        errors = any("error" in next(iter(item.values())) for item in items)
        return 200, {"took": 1, "errors": errors, "items": items}

    def _bulk_item(
        self,
        action: str,
        meta: dict[str, Any],
        source: dict[str, Any] | None,
        default: str | None,
        require_alias: bool,
    ) -> dict[str, Any]:
        name = meta.get("_index", default)
        doc_id = str(meta.get("_id"))
        result: dict[str, Any] = {"_index": name, "_id": doc_id}

        def failed(status: int, kind: str, reason: str) -> dict[str, Any]:
            return {**result, "status": status, "error": {"type": kind, "reason": reason}}

        try:
            index = self._write_index(name, require_alias)
        except FakeError as exc:
            return failed(exc.status, exc.kind, exc.reason)
        result["_index"] = index.name
        if doc_id in self.item_failures:
            status = self.item_failures[doc_id]
            kind = "es_rejected_execution_exception" if status == 429 else "fake_item_failure"
            return failed(status, kind, "fake item failure")
        current = (
            index.docs[doc_id].version if doc_id in index.docs else index.tombstones.get(doc_id)
        )
        version_type = meta.get("version_type", "internal")
        if version_type in ("external", "external_gte"):
            version = int(meta["version"])
            stale = current is not None and (
                version < current or (version == current and version_type == "external")
            )
            if stale:
                return failed(
                    409,
                    "version_conflict_engine_exception",
                    f"[{doc_id}]: version conflict, current version [{current}] is higher or equal"
                    f" to the one provided [{version}]",
                )
        else:
            version = (current or 0) + 1
        if action == "delete":
            existed = index.delete(doc_id, version)
            return {
                **result,
                "_version": version,
                "result": "deleted" if existed else "not_found",
                "status": 200 if existed else 404,
            }
        if action == "create" and doc_id in index.docs:
            return failed(
                409, "version_conflict_engine_exception", f"[{doc_id}]: document already exists"
            )
        created = doc_id not in index.docs
        assert source is not None
        index.put(doc_id, source, version)
        return {
            **result,
            "_version": version,
            "result": "created" if created else "updated",
            "status": 201 if created else 200,
        }

    def _search(self, indices: list[FakeIndex], body: dict[str, Any]) -> tuple[int, Any]:
        known = {
            "query",
            "post_filter",
            "aggs",
            "aggregations",
            "sort",
            "from",
            "size",
            "track_total_hits",
            "_source",
        }
        if set(body) - known:
            raise bad_request(f"the fake's search doesn't know {set(body) - known}")
        searcher = Searcher(self, indices)
        query = body.get("query", {"match_all": {}})
        scored = []
        for index, doc_id in searcher.docs:
            score = searcher.matches(query, index, doc_id)
            if score is not None:
                scored.append((index, doc_id, score))
        aggregations = searcher.aggregate(
            body.get("aggs", body.get("aggregations", {})), [(i, d) for i, d, _ in scored]
        )
        post_filter = body.get("post_filter")
        if post_filter is not None:
            scored = [
                (i, d, s) for i, d, s in scored if searcher.matches(post_filter, i, d) is not None
            ]
        sort = body.get("sort", [{"_score": "desc"}])
        keyed = [(searcher.sort_keys(sort, i, d, s), i, d, s) for i, d, s in scored]
        keyed.sort(key=lambda row: (row[0], row[1].name, row[2]))
        start, size = int(body.get("from", 0)), int(body.get("size", 10))
        tracked = body.get("track_total_hits", 10_000)
        total = {"value": len(keyed), "relation": "eq"}
        if tracked is not True and len(keyed) > int(tracked):
            total = {"value": int(tracked), "relation": "gte"}
        by_score = any((s == "_score" or (isinstance(s, dict) and "_score" in s)) for s in sort)
        hits = []
        for keys, index, doc_id, score in keyed[start : start + size]:
            hit: dict[str, Any] = {
                "_index": index.name,
                "_id": doc_id,
                "_score": score if by_score else None,
            }
            wanted = body.get("_source", True)
            source = index.docs[doc_id].source
            if wanted is True:
                hit["_source"] = source
            elif isinstance(wanted, list):
                hit["_source"] = {k: v for k, v in source.items() if k in wanted}
            hit["sort"] = searcher.sort_values(keys)
            hits.append(hit)
        max_score = max((s for _, _, _, s in keyed), default=None) if by_score else None
        response: dict[str, Any] = {
            "took": 1,
            "timed_out": False,
            "_shards": {
                "total": len(indices),
                "successful": len(indices),
                "skipped": 0,
                "failed": 0,
            },
            "hits": {"total": total, "max_score": max_score, "hits": hits},
        }
        if "aggs" in body or "aggregations" in body:
            response["aggregations"] = aggregations
        return 200, response


class FakeNode(BaseNode):
    """The transport's node, answering from ``FakeNode.cluster``."""

    _CLIENT_META_HTTP_CLIENT = ("fake", "1")
    cluster: FakeCluster | None = None

    def __init__(self, config: NodeConfig) -> None:
        super().__init__(config)

    def perform_request(
        self,
        method: str,
        target: str,
        body: bytes | None = None,
        headers: HttpHeaders | None = None,
        request_timeout: Any = None,
    ) -> NodeApiResponse:
        cluster = type(self).cluster
        if cluster is None:
            raise ConnectionError("fake: no cluster (set FakeNode.cluster)")
        status, payload = cluster.perform(method, target, body)
        data = b"" if payload is None or method == "HEAD" else json.dumps(payload).encode()
        meta = ApiResponseMeta(
            status=status,
            http_version="1.1",
            headers=HttpHeaders(HEADERS),
            duration=0.0,
            node=self.config,
        )
        return NodeApiResponse(meta, data)


def current_price(source: dict[str, Any], params: dict[str, Any], now: datetime) -> float:
    """Python twin of ``search.backends.elasticsearch.CURRENT_PRICE_SCRIPT``."""
    at = params["now"] / 1000

    def stamp(value: Any) -> float | None:
        return None if value is None else _date(value, now)

    starts, ends = stamp(source.get("offer_starts_at")), stamp(source.get("offer_ends_at"))
    on = (
        source.get("offer_price") is not None
        and starts is not None
        and ends is not None
        and starts <= at < ends
    )
    return float(source["offer_price"] if on else source["price"])
