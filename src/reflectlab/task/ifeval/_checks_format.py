"""Checkers that read the layout of a response: markdown structure, placeholders, postscripts,
JSON, titles, paragraphs, repeated prompts, start and end.

Semantics follow Google's IFEval reference (Zhou et al. 2023) including its leniencies, since
the point is to reproduce published numbers: e.g. a postscript marker counts anywhere in the
text, not only at the start of a line, and ``Section 2`` counts wherever it appears. Markers
taken from arguments (section splitter, postscript marker) are matched literally; the
reference inserts them into a regex unescaped, which is the same for every IFEval marker.
"""

from __future__ import annotations

import json
import re

from reflectlab.task.ifeval._args import Builder, Check, InstructionArgs

__all__ = ["FORMAT_BUILDERS"]

_PLACEHOLDER = re.compile(r"\[.*?\]")
# A bullet is a line starting with "* " (not "**", which is bold) or with "-".
_STAR_BULLET = re.compile(r"^\s*\*[^*].*$", re.MULTILINE)
_DASH_BULLET = re.compile(r"^\s*-.*$", re.MULTILINE)
_SINGLE_HIGHLIGHT = re.compile(r"\*[^\n*]*\*")
_DOUBLE_HIGHLIGHT = re.compile(r"\*\*[^\n*]*\*\*")
_PARAGRAPH_DIVIDER = re.compile(r"\s?\*\*\*\s?")
_TITLE = re.compile(r"<<[^\n]+>>")
_CONSTRAINED_OPTIONS = ("My answer is yes.", "My answer is no.", "My answer is maybe.")
_TWO_RESPONSES_SEPARATOR = "******"
_JSON_FENCES = ("```json", "```Json", "```JSON", "```")
# Characters that end the first word of a paragraph ("Weekend," -> "weekend").
_FIRST_WORD_STOP = frozenset(".,?!'\"")


def _build_number_placeholders(args: InstructionArgs) -> Check:
    minimum = args.integer("num_placeholders")
    return lambda response: len(_PLACEHOLDER.findall(response)) >= minimum


def _build_postscript(args: InstructionArgs) -> Check:
    marker = args.text("postscript_marker")
    # The two IFEval markers tolerate a space after each period ("P. S.", "p.p.s").
    if marker == "P.P.S":
        pattern = re.compile(r"\s*p\.\s?p\.\s?s.*$", re.MULTILINE)
    elif marker == "P.S.":
        pattern = re.compile(r"\s*p\.\s?s\..*$", re.MULTILINE)
    else:
        pattern = re.compile(r"\s*" + re.escape(marker.lower()) + r".*$", re.MULTILINE)
    return lambda response: pattern.search(response.lower()) is not None


def _build_number_bullet_lists(args: InstructionArgs) -> Check:
    # Exactly this many: a list with one bullet too many fails.
    expected = args.integer("num_bullets")

    def check(response: str) -> bool:
        bullets = len(_STAR_BULLET.findall(response)) + len(_DASH_BULLET.findall(response))
        return bullets == expected

    return check


def _build_constrained_response(args: InstructionArgs) -> Check:
    # Containment, not equality: "My answer is yes. Because ..." passes, as in the reference.
    return lambda response: any(option in response.strip() for option in _CONSTRAINED_OPTIONS)


def _build_number_highlighted_sections(args: InstructionArgs) -> Check:
    minimum = args.integer("num_highlights")

    def check(response: str) -> bool:
        singles = sum(
            1 for found in _SINGLE_HIGHLIGHT.findall(response) if found.strip("*").strip()
        )
        doubles = sum(
            1
            for found in _DOUBLE_HIGHLIGHT.findall(response)
            if found.removeprefix("**").removesuffix("**").strip()
        )
        return singles + doubles >= minimum

    return check


def _build_multiple_sections(args: InstructionArgs) -> Check:
    # Case-sensitive: with splitter "SECTION", "Section 1" does not start a section.
    splitter = re.compile(r"\s?" + re.escape(args.text("section_spliter")) + r"\s?\d+\s?")
    minimum = args.integer("num_sections")
    return lambda response: len(splitter.split(response)) - 1 >= minimum


def _build_json_format(args: InstructionArgs) -> Check:
    def check(response: str) -> bool:
        text = response.strip()
        for fence in _JSON_FENCES:
            if text.startswith(fence):
                text = text.removeprefix(fence)
                break
        text = text.removesuffix("```").strip()
        try:
            json.loads(text)
        except ValueError:
            return False
        return True

    return check


def _build_title(args: InstructionArgs) -> Check:
    def check(response: str) -> bool:
        return any(title.lstrip("<").rstrip(">").strip() for title in _TITLE.findall(response))

    return check


def _build_number_paragraphs(args: InstructionArgs) -> Check:
    expected = args.integer("num_paragraphs")

    def check(response: str) -> bool:
        parts = _PARAGRAPH_DIVIDER.split(response)
        count = len(parts)
        for index, part in enumerate(parts):
            if part.strip():
                continue
            # A divider at the very start or end is tolerated; two dividers in a row are not.
            if index in (0, len(parts) - 1):
                count -= 1
            else:
                return False
        return count == expected

    return check


def _first_word(paragraph: str) -> str:
    word = paragraph.split()[0].strip().lstrip("'").lstrip('"')
    letters: list[str] = []
    for char in word:
        if char in _FIRST_WORD_STOP:
            break
        letters.append(char.lower())
    return "".join(letters)


def _build_nth_paragraph_first_word(args: InstructionArgs) -> Check:
    expected = args.integer("num_paragraphs", minimum=1)
    nth = args.integer("nth_paragraph", minimum=1)
    first_word = args.text("first_word").lower()

    def check(response: str) -> bool:
        paragraphs = response.split("\n\n")
        count = sum(1 for paragraph in paragraphs if paragraph.strip())
        if nth > count:
            return False
        # Indexed in the raw split, blanks included, as the reference does: a stray blank
        # paragraph before the n-th one shifts which paragraph is read.
        paragraph = paragraphs[nth - 1].strip()
        if not paragraph:
            return False
        return count == expected and _first_word(paragraph) == first_word

    return check


def _build_two_responses(args: InstructionArgs) -> Check:
    def check(response: str) -> bool:
        parts = response.split(_TWO_RESPONSES_SEPARATOR)
        answers: list[str] = []
        for index, part in enumerate(parts):
            if part.strip():
                answers.append(part.strip())
            elif index not in (0, len(parts) - 1):
                return False
        return len(answers) == 2 and answers[0] != answers[1]

    return check


def _build_repeat_prompt(args: InstructionArgs) -> Check:
    # Case-insensitive prefix match on the stripped texts; anything may follow the repeat.
    request = args.text("prompt_to_repeat").lower()
    return lambda response: response.strip().lower().startswith(request)


def _build_end_checker(args: InstructionArgs) -> Check:
    # A closing double quote around the whole answer is ignored, so "quotation" and
    # "end_checker" can both be followed.
    phrase = args.text("end_phrase").lower()
    return lambda response: response.strip().strip('"').lower().endswith(phrase)


def _build_quotation(args: InstructionArgs) -> Check:
    def check(response: str) -> bool:
        text = response.strip()
        return len(text) > 1 and text[0] == '"' and text[-1] == '"'

    return check


FORMAT_BUILDERS: dict[str, Builder] = {
    "combination:repeat_prompt": _build_repeat_prompt,
    "combination:two_responses": _build_two_responses,
    "detectable_content:number_placeholders": _build_number_placeholders,
    "detectable_content:postscript": _build_postscript,
    "detectable_format:constrained_response": _build_constrained_response,
    "detectable_format:json_format": _build_json_format,
    "detectable_format:multiple_sections": _build_multiple_sections,
    "detectable_format:number_bullet_lists": _build_number_bullet_lists,
    "detectable_format:number_highlighted_sections": _build_number_highlighted_sections,
    "detectable_format:title": _build_title,
    "length_constraints:nth_paragraph_first_word": _build_nth_paragraph_first_word,
    "length_constraints:number_paragraphs": _build_number_paragraphs,
    "startend:end_checker": _build_end_checker,
    "startend:quotation": _build_quotation,
}
