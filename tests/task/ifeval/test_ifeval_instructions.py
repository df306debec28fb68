"""Each of the 25 IFEval instructions on small hand-made responses, one that follows it and one
that does not, plus the edge cases a user of the checker relies on."""

from __future__ import annotations

import pytest

from reflectlab.task.ifeval import INSTRUCTION_IDS, check_instruction

# (instruction id, kwargs, response, expected)
CASES: list[tuple[str, dict[str, object], str, bool]] = [
    # keywords
    ("keywords:existence", {"keywords": ["moon", "tide"]}, "The Moon pulls the tides.", True),
    ("keywords:existence", {"keywords": ["moon", "tide"]}, "The moon is bright.", False),
    (
        "keywords:frequency",
        {"keyword": "rain", "frequency": 2, "relation": "at least"},
        "Rain, rain, go away.",
        True,
    ),
    (
        "keywords:frequency",
        {"keyword": "rain", "frequency": 2, "relation": "less than"},
        "Rain, rain, go away.",
        False,
    ),
    ("keywords:forbidden_words", {"forbidden_words": ["in"]}, "Come into the house.", True),
    ("keywords:forbidden_words", {"forbidden_words": ["house"]}, "Come into the HOUSE.", False),
    (
        "keywords:letter_frequency",
        {"letter": "z", "let_frequency": 3, "let_relation": "at least"},
        "Zigzag pizza.",
        True,
    ),
    (
        "keywords:letter_frequency",
        {"letter": "z", "let_frequency": 3, "let_relation": "less than"},
        "Zigzag pizza.",
        False,
    ),
    # language
    (
        "language:response_language",
        {"language": "de"},
        "Das Wetter ist heute sehr schön und wir gehen in den Park spazieren.",
        True,
    ),
    (
        "language:response_language",
        {"language": "de"},
        "The weather is very nice today and we are going for a walk in the park.",
        False,
    ),
    # length constraints
    (
        "length_constraints:number_sentences",
        {"num_sentences": 3, "relation": "less than"},
        "One. Two.",
        True,
    ),
    (
        "length_constraints:number_sentences",
        {"num_sentences": 3, "relation": "less than"},
        "One. Two! Three?",
        False,
    ),
    ("length_constraints:number_paragraphs", {"num_paragraphs": 2}, "First.\n***\nSecond.", True),
    ("length_constraints:number_paragraphs", {"num_paragraphs": 2}, "First.\n\nSecond.", False),
    (
        "length_constraints:number_words",
        {"num_words": 5, "relation": "at least"},
        "one two three four five",
        True,
    ),
    (
        "length_constraints:number_words",
        {"num_words": 5, "relation": "at least"},
        "one two three four",
        False,
    ),
    (
        "length_constraints:nth_paragraph_first_word",
        {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "then"},
        "First we plan.\n\nThen, we act.",
        True,
    ),
    (
        "length_constraints:nth_paragraph_first_word",
        {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "then"},
        "First we plan.\n\nAfter that we act.",
        False,
    ),
    # detectable content
    (
        "detectable_content:number_placeholders",
        {"num_placeholders": 2},
        "Dear [name], see you at [place].",
        True,
    ),
    (
        "detectable_content:number_placeholders",
        {"num_placeholders": 2},
        "Dear [name], see you soon.",
        False,
    ),
    (
        "detectable_content:postscript",
        {"postscript_marker": "P.S."},
        "Bye.\n\nP.S. Bring cake.",
        True,
    ),
    ("detectable_content:postscript", {"postscript_marker": "P.P.S"}, "Bye.\n\nP.S. Cake.", False),
    # detectable format
    (
        "detectable_format:number_bullet_lists",
        {"num_bullets": 2},
        "Items:\n* apples\n- pears",
        True,
    ),
    (
        "detectable_format:number_bullet_lists",
        {"num_bullets": 2},
        "Items:\n* apples\n* pears\n* plums",
        False,
    ),
    ("detectable_format:constrained_response", {}, "My answer is yes.", True),
    ("detectable_format:constrained_response", {}, "Yes, definitely.", False),
    (
        "detectable_format:number_highlighted_sections",
        {"num_highlights": 2},
        "*Intro* text **Details** more",
        True,
    ),
    (
        "detectable_format:number_highlighted_sections",
        {"num_highlights": 2},
        "*Intro* text and ** ** nothing",
        False,
    ),
    (
        "detectable_format:multiple_sections",
        {"section_spliter": "Section", "num_sections": 2},
        "Section 1\nHello\nSection 2\nWorld",
        True,
    ),
    (
        "detectable_format:multiple_sections",
        {"section_spliter": "Section", "num_sections": 2},
        "Section 1\nHello\nWorld",
        False,
    ),
    ("detectable_format:json_format", {}, '```json\n{"a": 1}\n```', True),
    ("detectable_format:json_format", {}, 'Here it is: {"a": 1}', False),
    ("detectable_format:title", {}, "<<Ode to Joy>>\nLa la la.", True),
    ("detectable_format:title", {}, "<< >>\nLa la la.", False),
    # combination
    ("combination:two_responses", {}, "First answer.\n******\nSecond answer.", True),
    ("combination:two_responses", {}, "Same answer.\n******\nSame answer.", False),
    (
        "combination:repeat_prompt",
        {"prompt_to_repeat": "Write a haiku about rain."},
        "write a haiku about rain. Drops fall on the roof...",
        True,
    ),
    (
        "combination:repeat_prompt",
        {"prompt_to_repeat": "Write a haiku about rain."},
        "Sure! Write a haiku about rain. Drops fall...",
        False,
    ),
    # start / end
    (
        "startend:end_checker",
        {"end_phrase": "Any other questions?"},
        "Done. Any other questions?\n",
        True,
    ),
    (
        "startend:end_checker",
        {"end_phrase": "Any other questions?"},
        "Any other questions? Bye.",
        False,
    ),
    ("startend:quotation", {}, '"Wrapped in quotes."', True),
    ("startend:quotation", {}, '"Only opened.', False),
    # change case
    (
        "change_case:capital_word_frequency",
        {"capital_frequency": 2, "capital_relation": "at least"},
        "This is VERY IMPORTANT.",
        True,
    ),
    (
        "change_case:capital_word_frequency",
        {"capital_frequency": 2, "capital_relation": "less than"},
        "This is VERY IMPORTANT.",
        False,
    ),
    (
        "change_case:english_capital",
        {},
        "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG AND RUNS INTO THE FOREST.",
        True,
    ),
    (
        "change_case:english_capital",
        {},
        "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG and runs into the forest.",
        False,
    ),
    (
        "change_case:english_lowercase",
        {},
        "the quick brown fox jumps over the lazy dog and runs into the forest.",
        True,
    ),
    (
        "change_case:english_lowercase",
        {},
        "The quick brown fox jumps over the lazy dog and runs into the forest.",
        False,
    ),
    # punctuation
    ("punctuation:no_comma", {}, "No commas here.", True),
    ("punctuation:no_comma", {}, "Well, here is one.", False),
]


@pytest.mark.parametrize(("instruction_id", "kwargs", "response", "expected"), CASES)
def test_instruction(
    instruction_id: str, kwargs: dict[str, object], response: str, expected: bool
) -> None:
    assert check_instruction(instruction_id, kwargs, "prompt", response) is expected


def test_every_instruction_has_a_passing_and_a_failing_case() -> None:
    passing = {case[0] for case in CASES if case[3]}
    failing = {case[0] for case in CASES if not case[3]}
    assert passing == failing == set(INSTRUCTION_IDS)


@pytest.mark.parametrize(
    ("instruction_id", "kwargs", "response", "expected"),
    [
        # The keyword count is a substring count, as in the reference: "hat" inside "that".
        (
            "keywords:frequency",
            {"keyword": "hat", "frequency": 2, "relation": "at least"},
            "A hat, and that.",
            True,
        ),
        # Keywords are literal text, not regular expressions.
        ("keywords:existence", {"keywords": ["C++"]}, "I write C++ daily.", True),
        ("keywords:existence", {"keywords": ["a.c"]}, "abc", False),
        # Letters other than a-z are counted too.
        (
            "keywords:letter_frequency",
            {"letter": "#", "let_frequency": 2, "let_relation": "at least"},
            "#one #two",
            True,
        ),
        # A letter is counted regardless of case.
        (
            "keywords:letter_frequency",
            {"letter": "A", "let_frequency": 2, "let_relation": "at least"},
            "A cat",
            True,
        ),
        # A text without any language features counts as followed.
        ("language:response_language", {"language": "ja"}, "12345 !!!", True),
        # "**bold**" lines are not bullets; "-" lines are.
        ("detectable_format:number_bullet_lists", {"num_bullets": 1}, "**Bold**\n- one", True),
        # A divider at the very start or end is tolerated, two in a row are not.
        ("length_constraints:number_paragraphs", {"num_paragraphs": 2}, "***\nA\n***\nB", True),
        (
            "length_constraints:number_paragraphs",
            {"num_paragraphs": 2},
            "A\n***\n***\nB",
            False,
        ),
        # The first word is read up to punctuation and without opening quotes.
        (
            "length_constraints:nth_paragraph_first_word",
            {"num_paragraphs": 1, "nth_paragraph": 1, "first_word": "Weekend"},
            '"Weekend," she said.',
            True,
        ),
        # The paragraph count must match too.
        (
            "length_constraints:nth_paragraph_first_word",
            {"num_paragraphs": 3, "nth_paragraph": 1, "first_word": "weekend"},
            "Weekend plans.\n\nMore.",
            False,
        ),
        # Section markers are case-sensitive.
        (
            "detectable_format:multiple_sections",
            {"section_spliter": "SECTION", "num_sections": 1},
            "Section 1\nHello",
            False,
        ),
        # The end phrase may sit inside the closing quote of a quoted answer.
        (
            "startend:end_checker",
            {"end_phrase": "Peace!"},
            '"All is well. Peace!"',
            True,
        ),
        # Containment, not equality: an explanation after the option is fine.
        (
            "detectable_format:constrained_response",
            {},
            "My answer is no. It would not work.",
            True,
        ),
        # "DON'T" is two capital words, "I" one, as with the reference's tokenizer.
        (
            "change_case:capital_word_frequency",
            {"capital_frequency": 3, "capital_relation": "at least"},
            "I DON'T know.",
            True,
        ),
        # Bare JSON without fences is accepted.
        ("detectable_format:json_format", {}, '[1, 2, {"b": null}]', True),
        # Three responses are not two.
        ("combination:two_responses", {}, "A\n******\nB\n******\nC", False),
    ],
)
def test_reference_semantics(
    instruction_id: str, kwargs: dict[str, object], response: str, expected: bool
) -> None:
    assert check_instruction(instruction_id, kwargs, "prompt", response) is expected


@pytest.mark.parametrize("instruction_id", INSTRUCTION_IDS)
def test_blank_response_follows_nothing(instruction_id: str) -> None:
    # Even "no commas" is not followed by saying nothing.
    kwargs = next(case[1] for case in CASES if case[0] == instruction_id)
    assert check_instruction(instruction_id, kwargs, "prompt", "  \n ") is False


def test_supported_ids_are_the_25_ifeval_instructions() -> None:
    assert len(INSTRUCTION_IDS) == 25
    assert list(INSTRUCTION_IDS) == sorted(INSTRUCTION_IDS)
    assert "detectable_format:json_format" in INSTRUCTION_IDS
