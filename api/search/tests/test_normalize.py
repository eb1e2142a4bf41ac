"""The one normaliser (Lucene's ArabicNormalizer rules, plus digits and Latin case) and the
light stemmer: what is indexed and what is typed meet in the same form."""

import pytest

from search.normalize import normalize, stem, terms, words
from search.query import allowed_edits, parse


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("أحذية", "احذيه"),
        ("إبريق", "ابريق"),
        ("آلة", "اله"),
        ("حلوى", "حلوي"),
        ("مدرسة", "مدرسه"),
        ("كُتُب", "كتب"),  # harakat
        ("عــطـر", "عطر"),  # tatweel
        ("سجّادة", "سجاده"),  # shadda
        ("٣ أمتار", "3 امتار"),  # Arabic-Indic digits
        ("۱۲", "12"),  # Persian digits
        ("Café  CRÈME", "cafe creme"),
        ("ﻻ", "ﻻ"),  # presentation forms are left alone (phones send base letters)
    ],
)
def test_normalize(typed, expected):
    assert normalize(typed) == expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("الجلابيه", "جلاب"),
        ("والملابس", "ملابس"),
        ("بالعسل", "عسل"),
        ("عطورات", "عطور"),
        ("كتب", "كتب"),  # too short to lose anything
        ("samsung", "samsung"),  # Latin words are kept whole
    ],
)
def test_light_stem(word, expected):
    assert stem(word) == expected


def test_terms_split_on_punctuation_and_keep_symbols_out():
    assert words("C++ a-b, iPhone_15") == ["c", "a", "b", "iphone", "15"]
    assert terms("الجلابية البيضاء") == [stem("الجلابيه"), stem("البيضاء")]


def test_typo_allowance_follows_the_word_length():
    assert [allowed_edits(w) for w in ("bag", "sand", "sandals", "notebook")] == [0, 1, 1, 2]


@pytest.mark.django_db
def test_only_the_last_unfinished_word_is_a_prefix():
    assert [w.prefix for w in parse("leather sand")] == [False, True]
    assert [w.prefix for w in parse("leather sand ")] == [False, False]
