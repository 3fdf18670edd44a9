"""The answer-support check on its own: answers are kept only when the evidence line backs them.

The kind and action checks read WordNet (`make system` installs Debian's wordnet-base); these tests
fail rather than skip without it, since the QA results depend on it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from videoagent.qa import lexicon
from videoagent.qa.grounding import (
    asked_actions,
    asked_kind,
    asks_for_text,
    backs,
    check,
    choice,
    content_words,
    expects,
    mentions,
    names_all,
    places_in,
    polarity,
    stated,
)

PHOTOGRAPHER = "A photographer stands in a field with his camera."
MOTORCYCLE = "A red motorcycle is parked in the garage."


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Is there a dog in this video?", "yes_no"),
        ("When does the rocket lift off?", "when"),
        ("At what time of day is the rocket shown?", "when"),
        ("Which city is the photographer in?", "name"),
        ("What camera brand does the photographer use?", "name"),
        ("What is the speaker's name?", "name"),
        ("What is the price of the coffee?", "number"),
        ("How many people cross the lawn?", "number"),
        ("What color is the motorcycle?", "open"),
        ("Was he described as cold-hearted or warm-hearted?", "choice"),
        ("Is there a dog or not?", "yes_no"),
    ],
)
def test_expected_answer_types(question, kind):
    assert expects(question) == kind


def test_an_answer_from_the_line_is_kept():
    assert check("What color is the motorcycle?", "It is red.", MOTORCYCLE).grounded
    # by lemma: "rests" backs "resting"
    assert check(
        "What is the cat resting on?", "The cat is resting on a blanket.", "A tabby cat rests on a blanket."
    ).grounded


def test_a_name_the_line_does_not_hold_is_refused():
    support = check("Which city is the photographer in?", "The photographer is in New York.", PHOTOGRAPHER)
    assert not support.grounded and "york" in support.reason
    # Nor may the line itself stand in: the question asks for a name and the line holds none.
    assert not check("Which city is the photographer in?", PHOTOGRAPHER, PHOTOGRAPHER).grounded
    assert check("What is the speaker's name?", "Linus", "Hi, my name is Linus.").grounded


def test_restating_the_question_answers_nothing():
    support = check("Where is the motorcycle parked?", "The motorcycle is parked.", MOTORCYCLE)
    assert not support.grounded and "adds nothing" in support.reason


def test_numbers_are_asked_for_and_must_be_there():
    assert not check(
        "What is the price of the coffee?", "A cup of hot coffee.", "A cup of hot coffee sits here."
    ).grounded
    assert check(
        "What year is on the banner?", "LAUNCH DAY 2026", "LAUNCH DAY 2026", evidence_is_text_on_screen=True
    ).grounded
    # counted numbers are words too (scikit-learn's stop words would drop them)
    assert check("Which numbers are said?", "three, two,", "three, two,").grounded


def test_yes_no_and_when_questions_need_the_thing_asked_about():
    assert not check("Is there a dog in this video?", "", "A tabby cat rests on a soft blanket.").grounded
    assert check("Is there a red motorcycle?", "", MOTORCYCLE).grounded
    assert not check("When does the train arrive?", MOTORCYCLE, MOTORCYCLE).grounded
    assert check("When is the motorcycle parked?", MOTORCYCLE, MOTORCYCLE).grounded


def test_people_are_persons_and_footage_is_the_video():
    labels = "seen: person x8 72%, umbrella 20%"  # a silent scene's line: the detector says "person"
    reply = "Yes, people appear in this footage. [S1]"
    assert backs("Do people appear in this footage?", reply, labels).grounded
    assert not backs("Do dogs appear in this footage?", "Yes, dogs appear. [S1]", labels).grounded
    night = "dark 68%, reflector 38%; setting: night 54%"  # filming is what made the video, not a thing in it
    assert backs("Was this filmed at night?", "Yes, it was filmed at night. [S2]", night).grounded
    assert not backs("Was this filmed underwater?", "Yes. [S2]", night).grounded


def test_a_who_answer_must_name_the_person_itself():
    cat = "A tabby cat rests on a soft blanket. CAT CAFE OPEN animal, mammal, cat, domestic animal, Egyptian cat"
    # the line names an "Egyptian" (a person, to WordNet) in a label, but the answer names no one
    assert not backs("Who owns the cat?", "The cat is owned by a domestic cat.", cat, about=True).grounded
    assert backs("Who stands in a field?", "A photographer stands in a field.", PHOTOGRAPHER, about=True).grounded
    jesper = "Hi, my name is Jesper, and I pronounce it Jesper"
    assert backs("Who is speaking?", "The speaker is Jesper.", jesper, about=True).grounded
    assert not backs("Who is in the video?", "A face is shown.", "face 73%, person 60%", about=True).grounded
    faces = "clothing 92%, face 86%, necktie 64%, car 60%"  # a close-up: the face detector's label, no "person"
    assert backs("Is there a person in this clip?", "Yes, there is a person. [S1]", faces).grounded
    assert backs("Who is in the video?", "A person in a necktie.", faces, about=True).grounded
    assert not backs("Is there a dog in this clip?", "Yes. [S1]", faces).grounded


def test_a_colour_is_not_a_person():
    # WordNet files one common sense of "red" under person (a radical): the motorcycle scene holds no one
    reply = "The person in the field is holding a red motorcycle."
    assert not backs("What is the person in the field holding?", reply, MOTORCYCLE).grounded
    held = "The photographer is holding a camera."
    assert backs("What is the person in the field holding?", held, PHOTOGRAPHER).grounded


def test_what_someone_is_asked_to_do_the_scene_must_say_they_do():
    # the scene says he stands with his camera: not what he wears, nor what he photographs
    assert not backs("What is the photographer wearing?", "He is wearing a camera.", PHOTOGRAPHER).grounded
    photographing = "He is photographing a field."
    assert not backs("What is the photographer photographing?", photographing, PHOTOGRAPHER, about=True).grounded
    assert backs("What is the photographer holding?", "He holds his camera.", PHOTOGRAPHER).grounded  # "with"
    cat = "A tabby cat rests on a soft blanket."  # lying and resting share a sense
    assert not backs("What is the cat eating?", "The cat is resting on a soft blanket.", cat, about=True).grounded
    assert backs("What is the cat lying on?", "The cat is lying on a soft blanket.", cat).grounded
    # what a thing does is often said in other words: "3, 2, 1" is a countdown; a paraphrase needs no verb
    assert backs("Which numbers are counted down?", "3, 2, 1 are counted down.", "3, 2, 1.", about=True).grounded
    coins = "Old coins are laid out in rows on a table."
    assert backs("How are the coins arranged?", "They are laid out in rows.", coins).grounded


def test_the_opposite_in_the_scene_answers_a_yes_no_question_no():
    coffee = "A cup of hot coffee sits on a red saucer."
    assert stated("Is the coffee cold?", coffee) == ("No", coffee)
    assert stated("Are the coins new?", "Old coins are laid out in rows on a table.")[0] == "No"
    assert stated("Is the coffee hot?", coffee) == ("Yes", coffee)
    assert backs("Is the coffee cold?", "No, it is hot. [S3]", coffee).grounded
    assert stated("Is the coffee fresh?", coffee) is None  # nothing in the scene says fresh or stale
    assert not backs("Is the coffee fresh?", "Yes. [S3]", coffee).grounded


def test_a_stranded_preposition_asks_what_is_there_not_the_posture():
    astronaut = "An astronaut poses in front of the American flag."
    reply = "The astronaut is standing in front of the American flag."
    assert backs("What is the astronaut standing in front of?", reply, astronaut, about=True).grounded
    cat = "A tabby cat rests on a soft blanket."  # an adjunct, not a stranded preposition: eating is asked
    assert not backs("What is the cat eating in the kitchen?", "It rests.", cat, about=True).grounded


def test_a_word_people_use_as_a_verb_is_read_as_one():
    # "stand" is also a small table to WordNet; the rocket that stands on its pad is not on a table
    assert not names_all({"table"}, "The rocket stands on the launch pad at dusk.")
    assert names_all({"table"}, "Old coins are laid out in rows on a table.")
    assert names_all({"animal"}, "A tabby cat rests on a soft blanket.")


def test_a_hyphenated_compound_is_not_the_kind_its_last_word_names():
    # "wheeler" is a person to WordNet; a two-wheeler is not, and the scene holds no person
    reply = "The two-wheeler is parked in the garage."
    assert backs("Where is the two-wheeler parked?", reply, MOTORCYCLE, about=True).grounded
    assert not backs("Where is the wheeler?", "The wheeler is in the garage.", MOTORCYCLE, about=True).grounded


def test_either_or_questions_take_the_one_choice_the_line_holds():
    line = "Unless to be rather cold -hearted and rather selfish, is to be ill -disposed."
    assert choice("Was he described as cold-hearted or warm-hearted?", line) == "cold-hearted"
    assert (
        choice("What does the cat rest on, a blanket or a chair?", "A tabby cat rests on a soft blanket.") == "blanket"
    )
    # neither choice (or both) is no answer
    assert choice("Is it day or night?", "The rocket stands on the launch pad at dusk.") is None
    assert not check("Is it red or blue?", "", "A red and blue motorcycle.").grounded
    assert check("Is the motorcycle red or blue?", "", MOTORCYCLE).grounded


COFFEE = "A cup of hot coffee sits on a red saucer."
CAT = "A tabby cat rests on a soft blanket."


def test_wordnet_knows_kinds_and_verb_senses():
    lex = lexicon.load()
    assert lex is not None, "WordNet is missing: apt-get install wordnet-base (make system does)"
    assert lex.is_kind("animal", "cat") and lex.is_kind("drink", "coffee") and lex.is_kind("vehicle", "motorcycle")
    assert lex.is_kind("color", "red") and lex.is_kind("temperature", "hot")  # an adjective gives its attribute
    assert not lex.is_kind("animal", "motorcycle") and not lex.is_kind("flavor", "coffee")
    assert not lex.is_kind("fabric", "tabby")  # only common senses: a tabby is a cat, rarely a silk
    assert lex.same_sense("lie", "rest") and not lex.same_sense("eat", "rest")


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("What kind of vehicle is in the garage?", "vehicle"),
        ("Which animal is resting?", "animal"),
        ("What is the temperature of the coffee?", "temperature"),
        ("What is the motorcycle's license plate?", "plate"),
        ("What stands on the launch pad?", None),
        ("What is the cat eating?", None),
    ],
)
def test_the_kind_a_question_asks_for(question, kind):
    assert asked_kind(question) == kind


def test_the_actions_a_question_asks_about():
    assert asked_actions("What is the cat eating?") == ["eat"]
    assert asked_actions("Who made the coffee?") == ["make"]
    assert asked_actions("Where was the cat born?") == ["bear"]
    # the bare verb after "does the <noun>"; modal verbs are not actions
    assert asked_actions("When does the astronaut land on the moon?") == ["land"]
    assert asked_actions("What would it take to be ill-disposed?") == ["dispose"]
    # about the video itself, or nouns: nothing to check
    assert asked_actions("What is said after the countdown?") == []
    assert asked_actions("What does the sign in the cat scene say?") == []
    assert asked_actions("What kind of coins are shown?") == []


def test_the_line_must_hold_the_kind_asked_for():
    assert check("What drink is shown?", "coffee", COFFEE).grounded
    assert check("What is the temperature of the coffee?", "hot", COFFEE).grounded
    support = check("What flavor is the coffee?", COFFEE, COFFEE)
    assert not support.grounded and "flavor" in support.reason
    assert not check("What is the motorcycle's license plate?", MOTORCYCLE, MOTORCYCLE).grounded
    assert not check("What lens is on the camera?", PHOTOGRAPHER, PHOTOGRAPHER).grounded


def test_unstated_actions_of_things_in_the_video_are_refused():
    # the line is about the cat, but says nothing of eating: an unstated detail, not an answer
    support = check("What is the cat eating?", CAT, CAT)
    assert not support.grounded and "eat" in support.reason
    assert not check("Who is riding the motorcycle?", MOTORCYCLE, MOTORCYCLE).grounded
    assert not check("Who made the coffee?", COFFEE, COFFEE).grounded
    assert not check("What is the astronaut holding?", "the flag", "An astronaut poses in front of the flag.").grounded
    # a verb of the same sense, or "with" for what is held, does state it
    assert check("Where is the cat lying?", "on a soft blanket", CAT).grounded
    assert check("What is the photographer holding?", "his camera", PHOTOGRAPHER).grounded


def test_on_screen_text_answers_only_questions_about_text():
    assert asks_for_text("What words appear over the cat picture?") and not asks_for_text("What is the cat eating?")
    sign = "CAT CAFE OPEN"
    assert check("What does the sign say?", sign, sign, evidence_is_text_on_screen=True).grounded
    # for any other question, on-screen text faces the same checks as speech
    assert not check("What is the cat eating?", sign, sign, evidence_is_text_on_screen=True).grounded


def test_yes_no_answers_follow_the_line():
    assert check("Is there an animal in the video?", "", CAT).grounded  # a cat is one
    line = "He was not an ill -disposed young man."
    assert polarity("Was he an ill-disposed young man?", line) == "No"
    assert polarity("Is the motorcycle red?", MOTORCYCLE) == "Yes"
    assert polarity("Is the motorcycle not red?", MOTORCYCLE) == "No"


def test_mentions_are_by_word_or_kind():
    assert mentions("What animal is shown?", CAT)
    assert not mentions("What is the astronaut doing?", "The rocket stands on the launch pad at dusk.")


def test_the_packaged_stop_words_are_scikit_learns():
    """data/stop_words.txt is a copy (a cold ask no longer imports scikit-learn for it): it must not drift."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    from videoagent.qa.grounding import stop_words

    assert stop_words() == ENGLISH_STOP_WORDS


def test_wordnet_loads_from_its_parsed_index_without_scipy():
    """The reader's parsed index is read back as it was built, and loading WordNet imports neither scipy
    nor scikit-learn (nltk's optional imports); both still import afterwards."""
    import subprocess
    import sys

    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    root = lexicon.load()._wn.root  # builds the cached index when missing
    cached = lexicon._read_index(Path(root.path))
    assert cached is not None

    class Parsing(WordNetCorpusReader):  # the library's own index parsing, without the multilingual map
        def map_wn(self, version="wordnet"):
            return None

    with pytest.warns(UserWarning):  # "multilingual functions are not available"
        parsed = Parsing(root, None)
    lemmas, satellites = cached
    assert satellites == parsed.satellite_offsets and lemmas == dict(parsed._lemma_pos_offset_map)
    code = (
        "import sys; from videoagent.qa import lexicon; assert lexicon.load().is_kind('animal', 'cat'); "
        "print(sorted(m for m in ('scipy', 'sklearn') if m in sys.modules)); import sklearn.linear_model"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"


def test_a_damaged_or_stale_wordnet_index_is_rebuilt_not_read(tmp_path):
    """The cached parse is read back only when it is whole and built from these very files."""
    for name in ("index.noun", "index.verb", "index.adj", "index.adv", "data.adj"):
        (tmp_path / name).write_text("x\n")
    (tmp_path / "index.marshal").write_bytes(b"\x00not marshal")
    assert lexicon._read_index(tmp_path) is None
    lexicon._write_index(tmp_path, {"cat": {"n": [1]}}, {7})
    assert lexicon._read_index(tmp_path) == ({"cat": {"n": [1]}}, {7})
    (tmp_path / "index.noun").write_text("changed\n")
    assert lexicon._read_index(tmp_path) is None


def test_a_place_a_line_puts_something_in_is_indoors_or_outdoors():
    # by the kind of place (data/settings.yaml `places`), only after a preposition of place
    assert places_in(MOTORCYCLE) == {"garage": "indoor"}
    assert places_in(PHOTOGRAPHER) == {"field": "outdoors"}
    assert places_in("They park in the parking lot.") == {"lot": "outdoors"}  # the two-word name first
    assert places_in("A car drives past the house.") == {}
    assert places_in("They walk down the hallway.") == {}  # a corridor is a way, not a road
    assert places_in("An office in the city.") == {}  # an office is in a city: neither is said
    assert stated("Is the motorcycle outdoors?", MOTORCYCLE) == ("No", MOTORCYCLE)
    assert stated("Is the motorcycle indoors?", MOTORCYCLE) == ("Yes", MOTORCYCLE)
    assert stated("Is the photographer outside?", PHOTOGRAPHER) == ("Yes", PHOTOGRAPHER)
    assert stated("Is the motorcycle in a field?", MOTORCYCLE) == ("No", MOTORCYCLE)  # a field is outdoors
    assert stated("Is the motorcycle in a kitchen?", MOTORCYCLE) is None  # indoors too: the line cannot tell
    # the place a question puts the video in, against the setting its scene is seen to be
    assert backs("Is this inside a building?", "No.", "seen: person x4 60%. setting: outdoors 42%").grounded
    assert not backs("Is there a building?", "No.", "setting: outdoors 42%").grounded  # a house can stand outside
    assert names_all({"indoors"}, MOTORCYCLE) and not names_all({"indoors"}, PHOTOGRAPHER)
    assert "build" not in asked_actions("Is this inside a building?")  # "a building" is a noun


def test_a_hyphenated_compound_wordnet_knows_is_one_word_and_its_opposite_backs_no_yes():
    reading = "Unless to be rather cold -hearted and rather selfish is to be ill -disposed, he might be amiable."
    # "kind-hearted" is not a "hearted" the reading holds; the ASR's "cold -hearted" is WordNet's coldhearted
    assert "coldhearted" in content_words(reading) and "hearted" not in content_words("Was he kind-hearted?")
    assert not backs("Was he kind-hearted?", "Yes, he was kind-hearted.", reading).grounded
    # what only its opposite backs is a No, never a Yes
    assert not backs("Was he warm-hearted?", "Yes, he was warm-hearted.", reading).grounded
    assert backs("Was he warm-hearted?", "No, he was cold-hearted.", reading).grounded
    assert (
        not backs("Is the coffee cold?", "Yes.", COFFEE).grounded
        and backs("Is the coffee cold?", "No.", COFFEE).grounded
    )


def test_who_speaks_is_not_whoever_the_speech_tells_of():
    narration = "An astronaut poses in front of the American flag. face person"
    assert not backs("What does the astronaut say?", 'He says "An astronaut poses."', narration).grounded
    assert not backs("What is the photographer talking about?", "A field.", PHOTOGRAPHER).grounded
    jesper = "Hi my name is Jesper and I pronounce it Jesper. face person"
    # the man seen while a voice says "my name is Jesper" may be the one speaking; the question takes him as given
    assert backs("How does the man introduce himself?", 'By saying "my name is Jesper".', jesper).grounded
    reading = "He was not an ill-disposed young man."
    assert backs("Is the speaker talking about a young man?", "Yes.", reading).grounded  # the speaking is what is said
    assert not backs("Is the man talking about himself?", "No.", jesper).grounded  # no topic the scene could hold


def test_on_camera_is_in_the_picture_and_an_either_or_presence_needs_one_of_them():
    seen = "clothing face garment necktie car vehicle street outdoors"
    assert (
        backs("Is there a person on camera?", "Yes.", seen).grounded
        and not backs("Is there a camera?", "Yes.", seen).grounded
    )
    dog = "animal mammal domestic animal dog Samoyed"
    assert backs("Is there a dog or a cat in the first scene?", "A dog.", dog).grounded


def test_what_a_thing_is_on_is_not_answered_by_naming_the_thing():
    cat = "A tabby cat rests on a soft blanket. animal mammal cat"
    assert not backs("What is the feline lying on?", "The feline is a cat.", cat).grounded
    assert backs("What is the feline lying on?", "A soft blanket.", cat).grounded
    assert backs("What is the cat lying on?", "It lies on a soft blanket.", cat).grounded


def test_a_first_name_said_alone_gives_no_last_name_and_where_it_is_kept_asks_the_place():
    from videoagent.qa.grounding import introduced

    jesper = "Hi my name is Jesper and I pronounce it Jesper."
    assert introduced("What is the man's name?", jesper) == "Jesper"
    assert introduced("What is his last name?", jesper) is None and introduced("What is his surname?", jesper) is None
    assert introduced("What is his surname?", "Hi, my name is Jesper Pedersen.") == "Jesper Pedersen"
    assert backs("Where is the motorcycle stored?", "In the garage.", MOTORCYCLE).grounded  # the place, no action


def test_a_time_of_day_is_none_of_its_opposites():
    night = "dark reflector solar dish electronic equipment setting: night"
    assert not backs("Is it daytime in this clip?", "Yes, it is daytime.", night).grounded
    assert backs("Was this filmed during the day?", "No, at night.", night).grounded
    assert backs("Is there a woman?", "Yes.", "A man and a woman walk.").grounded  # people are no times of day
