"""Sentence and word counting that stands in for NLTK (Punkt and the Treebank tokenizer)."""

from __future__ import annotations

import pytest

from reflectlab.task.ifeval import count_sentences, count_words
from reflectlab.task.ifeval._words import word_tokens


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("   \n", 0),
        ("Hello world.", 1),
        ("It rained. We stayed in! Did you?", 3),
        # No end mark inside the word: a period between letters is not a break.
        ("Visit example.com today", 1),
        # A line break alone does not end a sentence.
        ("first line\nsecond line", 1),
        # Known abbreviations and decimals do not end sentences.
        ("Dr. Smith met Mr. Jones at 5 p.m. today.", 1),
        ("Version 3.5 is out. Get it!", 2),
        # ... unless a typical sentence starter follows the abbreviation.
        ("He lives in the U.S. He works there.", 2),
        # e.g. / etc. are not abbreviations for the reference model either.
        ("I like fruit, e.g. apples.", 2),
        # A numbered item before a capitalised word is a sentence of its own.
        ("1. First item\n2. Second item", 3),
        # ... but not before a lower-case word.
        ("Chapter 1. then more text", 1),
        # Initials before a name do not end a sentence; a letter before a common word does.
        ("J. K. Rowling wrote it.", 1),
        ("Go with plan B. Please try.", 2),
        # Closing quotes and brackets stay with their sentence.
        ('He said "Hi." Then he left.', 2),
        ("(This is it.) And more.", 2),
        ("Really?! Yes.", 2),
        ("Wait... what?", 1),
    ],
)
def test_count_sentences(text: str, expected: int) -> None:
    assert count_sentences(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("one two  three", 3),
        # Runs of word characters: punctuation splits, digits and underscores count.
        ("It's a well-known fact: 3 + 4 = 7.", 9),
        ("snake_case counts once", 3),
        ("Überall schön", 2),
    ],
)
def test_count_words(text: str, expected: int) -> None:
    assert count_words(text) == expected


def test_word_tokens_split_what_moves_case_boundaries() -> None:
    tokens = word_tokens("I DON'T know, NASA's \"BIG\" plan (U.S.) is STATE-OF-THE-ART; CANNOT")
    assert tokens == [
        "I",
        "DO",
        "N'T",
        "know",
        ",",
        "NASA",
        "'s",
        '"',
        "BIG",
        '"',
        "plan",
        "(",
        "U.S.",
        ")",
        "is",
        "STATE-OF-THE-ART",
        ";",
        "CAN",
        "NOT",
    ]


def test_word_tokens_keep_numbers_with_separators_together() -> None:
    assert word_tokens("1,000 at 10:30") == ["1,000", "at", "10:30"]
