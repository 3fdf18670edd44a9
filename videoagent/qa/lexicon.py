"""WordNet, for two questions the grounding check asks about words: is one a kind of another ("coffee"
of "drink", "red" of "color", "hot" gives a "temperature"), and do two verbs share a sense ("rests" and
"lying").

The data is Princeton WordNet 3.0 in its original database files, from Debian's `wordnet-base` package
(`make system` installs it) or any folder of those files (VIDEOAGENT_WORDNET, or an unzipped
nltk_data/corpora/wordnet), read with NLTK's WordNet reader. That reader trusts only folders on NLTK's
data path and wants a `lexnames` file Debian leaves out, so the files are copied once into the cache
with `lexnames` added. Without WordNet, `load()` returns None and the checks that need it are skipped.

The reader parses the four index files line by line at start (about 3 s here, most of a first question
that needs WordNet). What it builds, the lemma -> synset offsets map and the adjective satellites, is
kept beside the files with `marshal` (plain dicts, lists and ints: nothing to run when read back) and
read back in a fraction of that; it is rebuilt when the index files change. And `import nltk` pulls in
scipy and scikit-learn for its statistics and classifiers (2 s more); it treats both as optional and
the reader needs neither, so `_nltk()` imports it with them out of reach of that one thread.
"""

from __future__ import annotations

import functools
import importlib.abc
import marshal
import os
import sys
import threading
import warnings
from collections import defaultdict
from pathlib import Path

from ..atomic import atomic_write
from ..models.weights import joined_folder

# lexnames(5WN): the lexicographer files, numbered in this order in every WordNet 3.0 database.
_LEXNAMES = (
    "adj.all adj.pert adv.all noun.Tops noun.act noun.animal noun.artifact noun.attribute noun.body "
    "noun.cognition noun.communication noun.event noun.feeling noun.food noun.group noun.location "
    "noun.motive noun.object noun.person noun.phenomenon noun.plant noun.possession noun.process "
    "noun.quantity noun.relation noun.shape noun.state noun.substance noun.time verb.body verb.change "
    "verb.cognition verb.communication verb.competition verb.consumption verb.contact verb.creation "
    "verb.emotion verb.motion verb.perception verb.possession verb.social verb.stative verb.weather adj.ppl"
).split()
_NEEDED = ("data.noun", "data.verb", "data.adj", "data.adv", "index.noun", "index.verb", "index.adj", "index.adv")


def locate() -> Path | None:
    """The first folder holding WordNet's database files, or None."""
    for c in filter(None, [os.environ.get("VIDEOAGENT_WORDNET"), "/usr/share/wordnet"]):
        if _complete(Path(c)):
            return Path(c)
    try:
        nltk = _nltk()
    except ImportError:
        return None
    folders = [Path(p) / "corpora" / "wordnet" for p in nltk.data.path]
    return next((f for f in folders if _complete(f)), None)


class _WithoutOptional(importlib.abc.MetaPathFinder):
    """Makes scipy and scikit-learn unimportable for one thread (nltk's optional imports then fail as
    they would without them); every other thread imports them as usual."""

    NAMES = ("scipy", "sklearn")

    def __init__(self) -> None:
        self.thread = threading.get_ident()

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in self.NAMES and threading.get_ident() == self.thread:
            raise ModuleNotFoundError(f"{name}: not imported for nltk's WordNet reader", name=name)
        return None


def _nltk():
    """nltk with its WordNet reader, imported without its optional scipy and scikit-learn (0.6 s, not 2.7)."""
    if "nltk" in sys.modules:
        import nltk  # already paid for
    else:  # a finder is asked only for modules not imported yet: those already loaded stay usable
        finder = _WithoutOptional()
        sys.meta_path.insert(0, finder)
        try:
            import nltk
            import nltk.corpus.reader.wordnet  # noqa: F401 - under the same finder
        finally:
            sys.meta_path.remove(finder)
    return nltk


def _complete(folder: Path) -> bool:
    return all((folder / f).is_file() for f in _NEEDED)


@functools.cache
def load() -> Lexicon | None:
    """The WordNet lexicon (loaded once per process, about 2 s), or None when WordNet is not installed."""
    source = locate()
    if source is None:
        return None
    nltk = _nltk()
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    class _Reader(WordNetCorpusReader):
        # The reader maps the loaded WordNet's senses onto 3.0's for its multilingual data, reading
        # index.sense twice (3 s); this data is 3.0, so there is nothing to map.
        def map_wn(self, version="wordnet"):
            return None

        def _scan_satellites(self):  # read with the index, below
            self.satellite_offsets = set()

        def _load_lemma_pos_offset_map(self):
            cached = _read_index(folder)
            if cached is None:
                super()._scan_satellites()
                super()._load_lemma_pos_offset_map()
                _write_index(folder, self._lemma_pos_offset_map, self.satellite_offsets)
                return
            lemmas, self.satellite_offsets = cached
            self._lemma_pos_offset_map = defaultdict(dict, lemmas)

    folder = joined_folder("wordnet", [source])
    if not (folder / "lexnames").exists():
        lexnames = "".join(f"{i:02d}\t{name}\t0\n" for i, name in enumerate(_LEXNAMES))
        atomic_write(folder / "lexnames", lambda f: f.write(lexnames.encode()))
    if str(folder.parent) not in nltk.data.path:
        nltk.data.path.append(str(folder.parent))
    with warnings.catch_warnings():  # "multilingual functions are not available": none are used
        warnings.simplefilter("ignore")
        return Lexicon(_Reader(str(folder), None))


_INDEX = "index.marshal"  # the reader's parsed index (see the module's docstring)


def _stamp(folder: Path) -> list[int]:
    """What the parsed index was built from: the index and adjective files' sizes and times."""
    files = ["index.noun", "index.verb", "index.adj", "index.adv", "data.adj"]
    return [n for f in files for st in [(folder / f).stat()] for n in (st.st_size, st.st_mtime_ns)]


def _read_index(folder: Path) -> tuple[dict, set] | None:
    try:
        stamp, lemmas, satellites = marshal.loads((folder / _INDEX).read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    return (lemmas, satellites) if stamp == _stamp(folder) else None


def _write_index(folder: Path, lemmas: dict, satellites: set) -> None:
    data = marshal.dumps([_stamp(folder), {k: dict(v) for k, v in lemmas.items()}, set(satellites)])
    try:
        atomic_write(folder / _INDEX, lambda f: f.write(data))
    except OSError:  # a read-only cache costs time, not the lexicon
        pass


class Lexicon:
    def __init__(self, reader):
        self._wn = reader

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one Lexicon per process (load() is cached)
    def is_noun(self, word: str) -> bool:
        return bool(self._wn.synsets(word, "n"))

    def is_adjective(self, word: str) -> bool:
        return bool(self._wn.synsets(word, "a") or self._wn.synsets(word, "s"))

    def is_adverb(self, word: str) -> bool:
        return bool(self._wn.synsets(word, "r"))

    @functools.lru_cache(maxsize=65536)  # noqa: B019
    def mostly_verb(self, word: str) -> bool:
        """Whether people use `word` more as a verb than as a noun (SemCor counts): "stands" in "the rocket
        stands on the pad" is no small table, nor "rests" a support."""
        return self._used(word, "v") > self._used(word, "n")

    @functools.lru_cache(maxsize=65536)  # noqa: B019
    def mostly_adjective(self, word: str) -> bool:
        """Whether `word` is an adjective people use at least as often as its noun ("high", "red"; not
        "level" or "side", nouns far more often)."""
        return self.is_adjective(word) and self._used(word, "a") + self._used(word, "s") >= self._used(word, "n")

    def _used(self, word: str, pos: str) -> int:
        return sum(lem.count() for s in self._wn.synsets(word, pos) for lem in s.lemmas() if lem.name().lower() == word)

    @functools.lru_cache(maxsize=4096)  # noqa: B019
    def antonyms(self, word: str) -> frozenset[str]:
        """The adjectives and adverbs WordNet gives as the opposites of `word`'s common senses (cold -> hot,
        new -> old); a satellite ("icy") takes its head's (cold's); an adverb sense, every opposite of its
        lemmas ("indoors", the sense of "inside" and "indoors" -> outdoors, outside)."""
        out = set()
        for sense in self._common_senses(word):
            if sense.pos() == "r":
                out |= {a.name().lower() for lem in sense.lemmas() for a in lem.antonyms()}
            if sense.pos() not in "as":
                continue
            for head in [sense] if sense.pos() == "a" else sense.similar_tos():
                out |= {a.name().lower() for lem in head.lemmas() for a in lem.antonyms()}
        return frozenset(out - {word})

    @functools.lru_cache(maxsize=1024)  # noqa: B019
    def period_antonyms(self, word: str) -> frozenset[str]:
        """The opposites of a time of day or year `word` names ("daytime": night, nighttime, dark): one moment is
        in one of them. Only for periods of time: other nouns' opposites (man, woman) can be seen together."""
        period = self._wn.synset("time_period.n.01")
        out = set()
        for sense in self._wn.synsets(word, "n")[:4]:
            if period not in sense.closure(lambda s: s.hypernyms()):
                continue
            for lem in sense.lemmas():
                for a in lem.antonyms():
                    out |= {n.lower() for n in a.synset().lemma_names()}
        return frozenset(out - {word})

    @functools.lru_cache(maxsize=65536)  # noqa: B019
    def is_kind(self, general: str, word: str) -> bool:
        """Whether `word`, in one of its common senses, is a `general` (a noun): a cat is an animal,
        coffee a drink, red a color; an adjective counts when `general` is what it describes (hot ->
        temperature)."""
        kinds = set(self._wn.synsets(general, "n"))
        for sense in self._common_senses(word):
            if sense in kinds:
                return True
            if sense.pos() == "n" and kinds & set(sense.closure(lambda s: s.hypernyms() + s.instance_hypernyms())):
                return True
            heads = [sense, *sense.similar_tos()] if sense.pos() in "as" else []
            if any(kinds & set(h.attributes()) for h in heads):
                return True
        return False

    @functools.lru_cache(maxsize=65536)  # noqa: B019
    def names_a(self, general: str, word: str) -> bool:
        """Whether `word`'s first noun sense is a `general`: stricter than `is_kind`, for "who" (a
        photographer is a person; "red", whose rarer senses include a radical, is not)."""
        return self._first_noun_in(word, set(self._wn.synsets(general, "n")))

    @functools.lru_cache(maxsize=4096)  # noqa: B019
    def first_noun_under(self, word: str, kinds: tuple[str, ...]) -> bool:
        """Whether `word`'s first noun sense is, or is under, one of the named synsets ("garage": building.n.01;
        "field": tract.n.01; "hallway" no road.n.01, though both are ways)."""
        return self._first_noun_in(word, {self._wn.synset(k) for k in kinds})

    def _first_noun_in(self, word: str, kinds: set) -> bool:
        senses = self._wn.synsets(word, "n")
        if not senses:
            return False
        first = senses[0]
        return first in kinds or bool(kinds & set(first.closure(lambda s: s.hypernyms() + s.instance_hypernyms())))

    def same_sense(self, verb: str, other: str) -> bool:
        """Whether two verbs share a WordNet sense ("lie" and "rest")."""
        return bool(set(self._wn.synsets(verb, "v")) & set(self._wn.synsets(other, "v")))

    def _common_senses(self, word: str) -> list:
        """A word's first sense and any other that people use (tagged at least once in SemCor): "tabby"
        is a cat, not a silk fabric."""
        senses = self._wn.synsets(word)
        return [
            s
            for i, s in enumerate(senses)
            if i == 0 or any(lem.count() > 0 for lem in s.lemmas() if lem.name().lower() == word)
        ]
