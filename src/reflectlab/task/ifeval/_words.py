"""Word counting and word tokenization without NLTK.

``count_words`` is exact: the reference counts maximal runs of ``\\w`` characters, which plain
``re`` reproduces. ``word_tokens`` stands in for NLTK's Treebank-style ``word_tokenize``, which
the reference uses only to count words written in capitals
(``change_case:capital_word_frequency``). For that count only the *boundaries between cased
pieces* matter, so this tokenizer keeps the Treebank rules that move them and nothing else:

- whitespace separates tokens;
- brackets, double quotes, ``; @ # $ % & ? !`` and commas/colons not followed by a digit are
  tokens of their own (``(NASA)`` and ``NASA,`` both yield ``NASA``);
- clitics are split off: ``DON'T`` -> ``DO`` + ``N'T``, ``I'M`` -> ``I`` + ``'M``, and
  ``CANNOT`` -> ``CAN`` + ``NOT``, so each half counts, as in the reference;
- periods, hyphens and slashes stay inside words (``U.S.``, ``STATE-OF-THE-ART``, ``AND/OR``
  are one word each). A sentence-final period is split off by the reference but carries no
  case, so keeping it attached changes no count.
"""

from __future__ import annotations

import re

__all__ = ["count_words", "word_tokens"]

_WORD_RUN = re.compile(r"\w+")
_ISOLATED = re.compile(r"""([;@#$%&?!()\[\]{}<>"`]|--|\.\.\.|[:,](?!\d))""")
_CLITIC = re.compile(r"(?i)(?<=[^' ])('s|'m|'d|'ll|'re|'ve|n't|')(?= |$)")
_FUSED = re.compile(r"(?i)\b(can)(not)\b|\b(gon|got|wan)(na)\b|\b(gim|lem)(me)\b")


def count_words(text: str) -> int:
    """Number of words: maximal runs of letters, digits and underscores.

    >>> count_words("It's a well-known fact: 3 + 4 = 7.")
    9
    """
    return len(_WORD_RUN.findall(text))


def _split_fused(match: re.Match[str]) -> str:
    first, second = (group for group in match.groups() if group is not None)
    return f"{first} {second}"


def word_tokens(text: str) -> list[str]:
    """Treebank-like tokens of ``text`` (see the module docstring for what is kept).

    >>> word_tokens("I DON'T know (NASA, U.S.)")
    ['I', 'DO', "N'T", 'know', '(', 'NASA', ',', 'U.S.', ')']
    """
    padded = _ISOLATED.sub(r" \1 ", text)
    padded = _FUSED.sub(_split_fused, padded)
    tokens: list[str] = []
    for chunk in padded.split():
        tokens.extend(_CLITIC.sub(r" \1", chunk).split())
    return tokens
