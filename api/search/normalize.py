"""One normaliser for every backend: what is indexed, what is searched and what the query log
keeps go through the same rules, so أحذية finds احذية wherever it runs.

``normalize`` follows Lucene's ArabicNormalizer (which Elasticsearch's ``arabic_normalization``
filter is) plus what a shopper's phone adds: NFC; alef with madda or hamza → bare alef; alef
maksura ى → ي; teh marbuta ة → ه; diacritics (harakat, superscript alef) and tatweel removed;
any decimal digit (Arabic-Indic ٣, Persian ۳) → ASCII; Latin casefolded with accents removed.

``terms`` splits normalised text into words and light-stems the Arabic ones as Lucene's
ArabicStemmer does (``arabic_stem``): one article-like prefix (ال، وال، بال، كال، فال، لل) and
common suffixes (ها، ان، ات، ون، ين، يه، ية، ه، ة، ي), each only while enough of the word
remains. Latin words are kept whole.
"""

import re
import unicodedata

_ALEFS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه"})
_TATWEEL = "ـ"
_WORD = re.compile(r"\w+", re.UNICODE)
_ARABIC_LETTER = re.compile(r"[\u0621-\u064A\u066E-\u06D3]")

# Lucene's ArabicStemmer: one prefix, in this order, when 2 letters remain after it (و only on
# words of 4 letters or more); then each suffix in turn, when 2 letters remain. ة and ية are
# already ه and يه here (normalised).
_PREFIXES = ("ال", "وال", "بال", "كال", "فال", "لل", "و")
_SUFFIXES = ("ها", "ان", "ات", "ون", "ين", "يه", "ه", "ي")


def _is_mark(char: str) -> bool:
    # Harakat, shadda, sukun, superscript alef and any other combining mark.
    return unicodedata.category(char) == "Mn"


def _digit(char: str) -> str:
    if char.isdigit() and not char.isascii():
        try:
            return str(unicodedata.decimal(char))
        except ValueError:
            return char
    return char


def normalize(text: str) -> str:
    """The normalised form of ``text`` (whitespace collapsed; punctuation kept)."""
    text = unicodedata.normalize("NFC", text).translate(_ALEFS)
    # Decompose to drop Latin accents and Arabic marks alike, then put it back together.
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(_digit(c) for c in decomposed if not _is_mark(c) and c != _TATWEEL)
    return " ".join(unicodedata.normalize("NFC", kept).casefold().split())


def is_arabic(word: str) -> bool:
    return bool(_ARABIC_LETTER.search(word))


def stem(word: str) -> str:
    """Light stemming of an Arabic word (Lucene's rules); other words unchanged."""
    if not is_arabic(word):
        return word
    for prefix in _PREFIXES:
        if prefix == "و" and len(word) < 4:
            continue
        if word.startswith(prefix) and len(word) - len(prefix) >= 2:
            word = word[len(prefix) :]
            break
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 2:
            word = word[: -len(suffix)]
    return word


def words(text: str) -> list[str]:
    """Normalised words, unstemmed (what a suggestion shows and a prefix continues)."""
    return _WORD.findall(normalize(text).replace("_", " "))


def terms(text: str) -> list[str]:
    """The index terms of ``text``: normalised, split, Arabic light-stemmed, in order."""
    return [stem(word) for word in words(text)]
