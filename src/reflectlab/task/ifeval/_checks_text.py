"""Checkers that read the words of a response: keywords, language, length, case, punctuation.

Each ``_build_*`` function validates one instruction's arguments and returns the check. The
semantics follow Google's IFEval reference (Zhou et al. 2023); where this code differs, the
comment at the spot says so and why.
"""

from __future__ import annotations

import re

from langdetect import DetectorFactory, LangDetectException, detect

from reflectlab.task.ifeval._args import Builder, Check, InstructionArgs, compare
from reflectlab.task.ifeval._sentences import count_sentences
from reflectlab.task.ifeval._words import count_words, word_tokens

__all__ = ["TEXT_BUILDERS", "detect_language"]


def detect_language(text: str) -> str | None:
    """ISO 639-1 code langdetect assigns to ``text``; ``None`` if it finds no features.

    langdetect samples randomly; the seed is reset before every call so that a score does
    not change between runs (the reference leaves it unseeded).
    """
    DetectorFactory.seed = 0
    try:
        language: str = detect(text)
    except LangDetectException:
        return None
    return language


# Keywords are matched literally (escaped). The reference passes them to ``re`` unescaped; no
# IFEval keyword contains a regex metacharacter, so results agree, and a user's "C++" works.


def _build_keyword_existence(args: InstructionArgs) -> Check:
    patterns = [re.compile(re.escape(word), re.IGNORECASE) for word in args.text_list("keywords")]
    return lambda response: all(pattern.search(response) for pattern in patterns)


def _build_keyword_frequency(args: InstructionArgs) -> Check:
    # A substring count, as in the reference: "hat" also counts inside "that".
    pattern = re.compile(re.escape(args.text("keyword")), re.IGNORECASE)
    relation = args.relation("relation")
    frequency = args.integer("frequency")
    return lambda response: compare(len(pattern.findall(response)), relation, frequency)


def _build_forbidden_words(args: InstructionArgs) -> Check:
    # Whole words only: forbidding "in" does not forbid "into".
    patterns = [
        re.compile(r"\b" + re.escape(word) + r"\b", re.IGNORECASE)
        for word in args.text_list("forbidden_words")
    ]
    return lambda response: not any(pattern.search(response) for pattern in patterns)


def _build_letter_frequency(args: InstructionArgs) -> Check:
    letter = args.text("letter").lower()
    if len(letter) != 1:
        raise args.invalid("letter", f"must be a single character, got {letter!r}")
    relation = args.relation("let_relation")
    frequency = args.integer("let_frequency")
    return lambda response: compare(response.lower().count(letter), relation, frequency)


def _build_response_language(args: InstructionArgs) -> Check:
    language = args.text("language")

    def check(response: str) -> bool:
        detected = detect_language(response)
        # No detectable language (only digits or symbols) counts as followed, as in the
        # reference: the instruction was not visibly broken.
        return detected is None or detected == language

    return check


def _build_number_sentences(args: InstructionArgs) -> Check:
    relation = args.relation("relation")
    threshold = args.integer("num_sentences")
    return lambda response: compare(count_sentences(response), relation, threshold)


def _build_number_words(args: InstructionArgs) -> Check:
    relation = args.relation("relation")
    threshold = args.integer("num_words")
    return lambda response: compare(count_words(response), relation, threshold)


def _build_english_capital(args: InstructionArgs) -> Check:
    def check(response: str) -> bool:
        if not response.isupper():
            return False
        detected = detect_language(response)
        return detected is None or detected == "en"

    return check


def _build_english_lowercase(args: InstructionArgs) -> Check:
    def check(response: str) -> bool:
        if not response.islower():
            return False
        detected = detect_language(response)
        return detected is None or detected == "en"

    return check


def _build_capital_word_frequency(args: InstructionArgs) -> Check:
    relation = args.relation("capital_relation")
    threshold = args.integer("capital_frequency")

    def check(response: str) -> bool:
        capitals = sum(1 for token in word_tokens(response) if token.isupper())
        return compare(capitals, relation, threshold)

    return check


def _build_no_comma(args: InstructionArgs) -> Check:
    # Only the ASCII comma, as in the reference; an ideographic comma is not a comma here.
    return lambda response: "," not in response


TEXT_BUILDERS: dict[str, Builder] = {
    "change_case:capital_word_frequency": _build_capital_word_frequency,
    "change_case:english_capital": _build_english_capital,
    "change_case:english_lowercase": _build_english_lowercase,
    "keywords:existence": _build_keyword_existence,
    "keywords:forbidden_words": _build_forbidden_words,
    "keywords:frequency": _build_keyword_frequency,
    "keywords:letter_frequency": _build_letter_frequency,
    "language:response_language": _build_response_language,
    "length_constraints:number_sentences": _build_number_sentences,
    "length_constraints:number_words": _build_number_words,
    "punctuation:no_comma": _build_no_comma,
}
