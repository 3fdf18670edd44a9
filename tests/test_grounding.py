"""The answer-support check on its own: answers are kept only when the evidence line backs them."""

from __future__ import annotations

import pytest

from videoagent.grounding import check, choice, expects

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
    assert check("Which numbers are counted down?", "three, two,", "three, two,").grounded


def test_yes_no_and_when_questions_need_the_thing_asked_about():
    assert not check("Is there a dog in this video?", "", "A tabby cat rests on a soft blanket.").grounded
    assert check("Is there a red motorcycle?", "", MOTORCYCLE).grounded
    assert not check("When does the train arrive?", MOTORCYCLE, MOTORCYCLE).grounded
    assert check("When is the motorcycle parked?", MOTORCYCLE, MOTORCYCLE).grounded


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
