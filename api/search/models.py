"""The database search index, its feed, synonyms and the query log.

The index is the search app's own copy of the catalogue, kept by the feed (``search.feed``): a
row per product on sale (``SearchDocument``) with what filters and facets need, its facet values
(``DocumentFacet``), and an inverted index of normalised terms (``Posting``) with a vocabulary
(``Term``) whose trigrams (``TermTrigram``) give typo tolerance; search-as-you-type reads the
vocabulary by range (``text >= 'sand' AND text < 'sand\U0010ffff'``), which an index serves on
SQLite and on MariaDB (where these columns compare as binary, ``BinaryCharField``). The same SQL
runs on both.
"""

import uuid
from typing import Any

from django.db import models
from django.utils import timezone


class BinaryCharField(models.CharField):
    """A CharField compared by code point on every database: binary on MariaDB (where the
    default collation folds case and accents, and orders supplementary characters oddly), as
    SQLite already does. Range scans over normalised text need that order."""

    def db_parameters(self, connection: Any) -> dict[str, Any]:
        parameters = super().db_parameters(connection)
        if connection.vendor == "mysql":
            parameters["collation"] = "utf8mb4_bin"
        return parameters


class IndexChange(models.Model):
    """The feed: written in the same transaction as the catalogue change it reports (a
    rollback reports nothing), drained by the worker into the index."""

    class Kind(models.TextChoices):
        PRODUCT = "product", "Product"
        STORE = "store", "Store (all its products)"
        CATEGORY = "category", "Category (all its products)"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    object_id = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["created_at", "id"], name="index_change_due")]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id}"


class IndexWriter(models.Model):
    """One row, locked by whoever writes the index (a drain, the reconciler, a rebuild), so
    writers take turns: a document is rewritten from the catalogue by one writer at a time, and
    the last to write read the newest state."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)

    def __str__(self) -> str:
        return "search index writer"


class IndexLog(models.Model):
    """Which document each index write touched, in write order (writers take turns under
    IndexWriter, so ids grow in commit order): how a process's copy of the documents
    (``search.replica``) catches up. Rows are kept at least LOG_KEEP_SECONDS."""

    LOG_KEEP_SECONDS = 3600

    id = models.BigAutoField(primary_key=True)
    document_id = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"{self.pk}: document {self.document_id}"


FACET_KEY_SEPARATOR, FACET_SEPARATOR = "\x1f", "\x1e"  # ASCII unit and record separators


def facet_key(facet: str, value: str) -> str:
    return f"{facet}{FACET_KEY_SEPARATOR}{value}"


class SearchDocument(models.Model):
    """A product on sale, as search sees it. The id is the product's."""

    id = models.PositiveBigIntegerField(primary_key=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    store_id = models.PositiveBigIntegerField()
    store_name = models.CharField(max_length=120)
    category_slug = models.CharField(max_length=120, blank=True)
    price = models.DecimalField(max_digits=12, decimal_places=2)
    offer_price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    offer_starts_at = models.DateTimeField(null=True, blank=True)
    offer_ends_at = models.DateTimeField(null=True, blank=True)
    in_stock = models.BooleanField()
    created_at = models.DateTimeField()
    # Its DocumentFacet rows' (facet, value) pairs in one string (FACET_KEY_SEPARATOR between
    # facet and value, FACET_SEPARATOR between pairs): a search reads them with the matching
    # documents and counts facets in Python, instead of grouping thousands of rows in SQL.
    facet_keys = models.TextField(blank=True, default="")
    # What the product looked like when indexed: the reconciler compares it with the catalogue.
    stamp = models.CharField(max_length=64)
    indexed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["created_at", "id"], name="search_doc_recent"),
            models.Index(fields=["price", "id"], name="search_doc_price"),
            models.Index(fields=["name", "id"], name="search_doc_name"),
        ]

    def __str__(self) -> str:
        return self.name


class DocumentFacet(models.Model):
    """One facet value of a document: its category and every ancestor, each tag, each size,
    its store. Facet counts are counts of these rows over the matching documents."""

    class Facet(models.TextChoices):
        CATEGORY = "category", "Category"
        TAG = "tag", "Tag"
        SIZE = "size", "Size"
        STORE = "store", "Store"

    document = models.ForeignKey(SearchDocument, on_delete=models.CASCADE, related_name="facets")
    facet = models.CharField(max_length=10, choices=Facet.choices)
    value = models.CharField(max_length=120)
    label = models.CharField(max_length=200)
    normalized = BinaryCharField(max_length=200)  # the label normalised, for suggestions
    parent = models.CharField(max_length=120, blank=True)  # a category's parent's slug

    class Meta:
        indexes = [
            models.Index(fields=["facet", "value", "document"], name="facet_value_doc"),
            models.Index(fields=["document", "facet"], name="facet_doc"),
            models.Index(fields=["facet", "normalized"], name="facet_normalized"),
        ]

    def __str__(self) -> str:
        return f"{self.facet}={self.value}"


class Posting(models.Model):
    """A term of a document with the weight of the best field it appears in (the name counts
    most, then category and tags, the store, the description)."""

    term = BinaryCharField(max_length=64)
    document = models.ForeignKey(SearchDocument, on_delete=models.CASCADE, related_name="+")
    weight = models.PositiveSmallIntegerField()

    class Meta:
        indexes = [
            # Covering: a query's postings (every field, or the names only) are read from the
            # index alone, without a row lookup each.
            models.Index(fields=["term", "weight", "document"], name="posting_term_weight_doc"),
            models.Index(fields=["document"], name="posting_doc"),
        ]

    def __str__(self) -> str:
        return self.term


class Term(models.Model):
    """The vocabulary: every term ever indexed (a term no document uses any more finds
    nothing; the reconciler prunes them)."""

    text = BinaryCharField(max_length=64, unique=True)

    def __str__(self) -> str:
        return self.text


class TermTrigram(models.Model):
    """A trigram of a term (padded with spaces): query words of 4 letters or more are matched
    to terms sharing enough trigrams, then kept within their edit distance."""

    trigram = models.CharField(max_length=3)
    term = models.ForeignKey(Term, on_delete=models.CASCADE, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["trigram", "term"], name="trigram_term")]

    def __str__(self) -> str:
        return self.trigram


class ElasticsearchPending(models.Model):
    """Documents the Elasticsearch index hasn't caught up with (written with the database index,
    sent by ``search.elastic.sync``; a document that failed stays until it goes through)."""

    document_id = models.PositiveBigIntegerField(primary_key=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return str(self.document_id)


class SynonymGroup(models.Model):
    """Words that mean the same to a shopper, e.g. جوال, موبايل, هاتف: a query word matching
    one matches them all, on every backend, at query time (no reindex)."""

    words = models.TextField(help_text="Comma-separated, e.g. “جوال, موبايل, هاتف”.")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.words


class SearchQuery(models.Model):
    """One search as run: the normalised text (no user, no address, no token), what it found,
    on which backend and how fast. Clicks point here by its id (the API's ``query_id``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    text = models.CharField(max_length=200)
    results = models.PositiveIntegerField()
    backend = models.CharField(max_length=20)
    latency_ms = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "search queries"
        indexes = [
            models.Index(fields=["created_at"], name="search_query_time"),
            models.Index(fields=["text", "created_at"], name="search_query_text"),
        ]

    def __str__(self) -> str:
        return self.text


class PopularQuery(models.Model):
    """What shoppers searched for and found something, counted over the last 30 days (rebuilt
    hourly from the query log): suggestions of kind ``query``."""

    text = BinaryCharField(max_length=200, unique=True)
    searches = models.PositiveIntegerField()

    class Meta:
        verbose_name_plural = "popular queries"

    def __str__(self) -> str:
        return self.text


class SearchClick(models.Model):
    query = models.ForeignKey(SearchQuery, on_delete=models.CASCADE, related_name="clicks")
    product_id = models.PositiveBigIntegerField()
    position = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["query", "product_id"], name="search_click_once"),
        ]

    def __str__(self) -> str:
        return f"{self.query_id} #{self.position}"
