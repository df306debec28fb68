"""Plain-English descriptions of IFEval instructions, for feedback a model can act on.

Tool feedback must say *which* constraint a reply missed in words the model understands, not
``detectable_format:number_bullet_lists {'num_bullets': 3}``. The wording follows the phrasing
of IFEval's own prompts.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["describe_instruction"]

_TEMPLATES: dict[str, str] = {
    "change_case:capital_word_frequency": (
        "use words in ALL CAPITAL LETTERS {capital_relation} {capital_frequency} times"
    ),
    "change_case:english_capital": "write the entire response in English, in capital letters only",
    "change_case:english_lowercase": (
        "write the entire response in English, in lowercase letters only (no capitals at all)"
    ),
    "combination:repeat_prompt": (
        "first repeat the request word for word without change, then give your answer"
    ),
    "combination:two_responses": (
        "give two different responses, separated by six asterisks: ******"
    ),
    "detectable_content:number_placeholders": (
        "include at least {num_placeholders} placeholders in square brackets, like [address]"
    ),
    "detectable_content:postscript": (
        "add a postscript at the end, starting with {postscript_marker}"
    ),
    "detectable_format:constrained_response": (
        "answer with one of: 'My answer is yes.', 'My answer is no.', 'My answer is maybe.'"
    ),
    "detectable_format:json_format": "wrap the entire output in JSON format",
    "detectable_format:multiple_sections": (
        "have exactly {num_sections} sections, each beginning with '{section_spliter} X' "
        "(X the section number)"
    ),
    "detectable_format:number_bullet_lists": (
        "use exactly {num_bullets} bullet points, as markdown lines starting with '* '"
    ),
    "detectable_format:number_highlighted_sections": (
        "highlight at least {num_highlights} sections with markdown, i.e. *highlighted section*"
    ),
    "detectable_format:title": "include a title wrapped in double angular brackets, like <<title>>",
    "keywords:existence": "include the keywords {keywords}",
    "keywords:forbidden_words": "do not use the words {forbidden_words}",
    "keywords:frequency": "use the word '{keyword}' {relation} {frequency} times",
    "keywords:letter_frequency": "use the letter '{letter}' {let_relation} {let_frequency} times",
    "language:response_language": (
        "write the entire response in the language with ISO code '{language}'"
    ),
    "length_constraints:nth_paragraph_first_word": (
        "write exactly {num_paragraphs} paragraphs separated by blank lines; paragraph "
        "{nth_paragraph} must start with the word '{first_word}'"
    ),
    "length_constraints:number_paragraphs": (
        "write exactly {num_paragraphs} paragraphs, separated by the markdown divider ***"
    ),
    "length_constraints:number_sentences": "use {relation} {num_sentences} sentences",
    "length_constraints:number_words": "use {relation} {num_words} words",
    "punctuation:no_comma": "do not use any commas",
    "startend:end_checker": (
        "end the response with the exact phrase '{end_phrase}', with nothing after it"
    ),
    "startend:quotation": "wrap the entire response in double quotation marks",
}


def _show(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(f"'{item}'" for item in value)
    return str(value)


def describe_instruction(instruction_id: str, kwargs: Mapping[str, object]) -> str:
    """One instruction in words, e.g. ``"use exactly 3 bullet points, ..."``.

    >>> describe_instruction("length_constraints:number_words",
    ...                      {"relation": "at least", "num_words": 300})
    'use at least 300 words'
    """
    values = {key: _show(value) for key, value in kwargs.items() if value is not None}
    template = _TEMPLATES.get(instruction_id)
    if template is not None:
        try:
            return template.format(**values)
        except (KeyError, IndexError):
            pass
    shown = ", ".join(f"{k}={v}" for k, v in values.items())
    return f"{instruction_id}" + (f" ({shown})" if shown else "")
