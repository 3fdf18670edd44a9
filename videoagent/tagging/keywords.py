"""Keyword recall: find tag names and synonyms in text, word for word or by lemma ("cats" names "cat").

Every term of the library is turned into a tuple of lemmas once; a text is scanned for n-grams of lemmas
and each n-gram is looked up in that table, so the cost of a match grows with the text, not the library.
Lemmas come from lemminflect's English tables (shipped inside the package, no download).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .library import TagLibrary

TOKEN = re.compile(r"[a-z0-9]+")


@lru_cache(maxsize=200_000)
def lemma(word: str) -> str:
    from lemminflect import getAllLemmas

    found = getAllLemmas(word)
    for pos in ("NOUN", "VERB", "ADJ", "PROPN"):
        if found.get(pos):
            return found[pos][0]
    return word


def lemmas(text: str) -> tuple[list[str], list[str]]:
    """(surface words, their lemmas) of a text, lower-cased."""
    words = TOKEN.findall(text.lower())
    return words, [lemma(w) for w in words]


@dataclass(frozen=True)
class Hit:
    tag: int  # index in the library
    matched: str  # the words of the text that named it
    exact: bool  # the words equal a term; False when only their lemmas do


class KeywordMatcher:
    _built: dict[str, KeywordMatcher] = {}

    @classmethod
    def of(cls, library: TagLibrary) -> KeywordMatcher:
        """One matcher per library version per process: building it is linear in the library."""
        if library.version not in cls._built:
            cls._built[library.version] = cls(library)
        return cls._built[library.version]

    def __init__(self, library: TagLibrary):
        # lemmas of a term -> {tag index: the terms' own words}
        self.table: dict[tuple[str, ...], dict[int, set[tuple[str, ...]]]] = {}
        for i, tag in enumerate(library.tags):
            for term in tag.terms():
                words, lems = lemmas(term)
                if lems:
                    self.table.setdefault(tuple(lems), {}).setdefault(i, set()).add(tuple(words))
        self.longest = max((len(k) for k in self.table), default=0)

    def find(self, text: str) -> list[Hit]:
        words, lems = lemmas(text)
        hits: dict[int, Hit] = {}
        for start in range(len(words)):
            for n in range(1, min(self.longest, len(words) - start) + 1):
                span = tuple(words[start : start + n])
                for tag, forms in self.table.get(tuple(lems[start : start + n]), {}).items():
                    exact = span in forms
                    old = hits.get(tag)
                    if old is None:
                        hits[tag] = Hit(tag, " ".join(span), exact)
                    else:  # the longest span names it best; any exact span makes the hit exact
                        longer = " ".join(span) if n > len(old.matched.split()) else old.matched
                        hits[tag] = Hit(tag, longer, exact or old.exact)
        return list(hits.values())
