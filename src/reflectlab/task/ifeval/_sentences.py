"""Sentence counting without NLTK, for ``length_constraints:number_sentences``.

IFEval's reference checker counts sentences with NLTK's pre-trained English Punkt model
(Kiss & Strunk 2006, "Unsupervised Multilingual Sentence Boundary Detection"). Loading that
model needs a data download that reflectlab cannot assume offline, so this module re-implements
Punkt's *decision procedure* with regular expressions and small hand-written word lists. What
a response is scored on should not depend on whether a download happened.

The procedure, and where it differs from the trained model:

1. A candidate end is ``.``, ``?`` or ``!`` followed either by whitespace and another token or
   by one of Punkt's "non-word" characters (closing brackets, quotes, ``*``, ``:`` ...). A
   line break alone never ends a sentence, as in Punkt; a bullet without final punctuation runs
   into the next line.
2. ``?`` and ``!`` always end a sentence. A word ending in ``.`` ends one unless it is a known
   abbreviation (``Mr.``, ``U.S.``, ``p.m.``). Like the reference model, ``e.g.``, ``i.e.`` and
   ``etc.`` are *not* abbreviations: the model never learned them, and matching the reference
   matters more here than linguistic taste.
3. A number or a one-letter initial followed by a lowercase word is not a break
   (``at 5 p.m. today``); followed by a capitalised word it is, so the list item "1. Buy milk."
   counts as two sentences, exactly as the reference counts it.
4. After an abbreviation or an ellipsis, only a capitalised frequent sentence starter ("The",
   "However") makes a break; after a one-letter initial, a capitalised word that is not a
   frequent English word is taken for a name ("J. Smith": no break, "plan B. Please": break).
   The model decides both from word statistics learned on the Wall Street Journal; short word
   lists stand in for them here. This is the one place where counts can differ from the
   reference, and only right after abbreviations, ellipses and single letters.
5. Closing quotes and brackets after a break stay with the sentence they close.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

__all__ = ["count_sentences"]

# Punkt's "non-word" characters: a sentence-end mark directly followed by one of them is still
# a candidate end (``"Stop!" she said``, ``(see above.)``).
_NON_WORD = r"""[?!)";}\]*:@'({\[]"""
_NON_WORD_CHARS = frozenset("?!)\";}]*:@'({[")
_MULTI_PUNCT = r"(?:-{2,}|\.{2,}|(?:\.\s){2,}\.)"
_WORD_TOKEN = re.compile(
    _MULTI_PUNCT
    + r"|(?=[^(\"`{\[:;&#*@)}\]\-,])\S+?(?=\s|$|"
    + _NON_WORD
    + "|"
    + _MULTI_PUNCT
    + r"|,(?=$|\s|"
    + _NON_WORD
    + "|"
    + _MULTI_PUNCT
    + r"))|\S"
)
_NUMBER = re.compile(r"^-?[.,]?\d[\d,.\-]*\.?$")
_INITIAL = re.compile(r"^[^\W\d]\.$")
_ELLIPSIS = re.compile(r"^\.\.+$")
_CHUNK = re.compile(r"\S+")
# Closing punctuation that opens the next slice belongs to the sentence before it.
_REALIGN = re.compile(r"""["')\]}]+?(?:\s+|(?=--)|$)""")


def _word_set(words: str) -> frozenset[str]:
    """A set from a whitespace-separated list: keeps the word lists below readable."""
    return frozenset(words.split())


# Abbreviations after which a period does not end a sentence (lower case, final period
# removed). Deliberately close to what the reference English model treats as abbreviations,
# including the single letters it learned as abbreviations (``p.``, ``s.``, ...).
_ABBREVIATIONS = _word_set(
    """
    mr mrs ms messrs dr prof st jr sr rev gen col lt maj capt sen rep reps adm
    inc ltd co corp cie bros vs ave ft mg yr ok
    jan feb aug sep sept oct nov dec tues wed fri
    u.s u.s.a u.k u.n u.s.s.r d.c n.y n.j l.a a.m p.m ph.d m.b.a a.d
    ala ariz calif colo conn fla ga ill kan ky mich minn nev okla ore pa tenn va vt wash wis
    c d e f g h k l m n p r s t v w
    """
)

# Words the reference model treats as sentence starters even right after an abbreviation.
_SENTENCE_STARTERS = _word_set(
    """
    according although among both but despite even however i if in indeed instead it many
    meanwhile moreover most nevertheless nonetheless nor separately similarly since so some
    the there these they this though thus under when while yet he
    """
)

# Stand-in for the model's word statistics ("seen in lower case"): frequent English words,
# so that after a one-letter word ("plan B. Please ...") a capitalised common word starts a
# sentence, while a capitalised unknown word is taken for a name ("J. Smith").
_FREQUENT_WORDS = _SENTENCE_STARTERS | _word_set(
    """
    a about above after again against all also always an and another any are as ask at
    back be because been before being below best better between by call can check choose
    come consider could do does don each either enjoy every feel few find first for from
    get give go good great have having her here his hope how just keep know last let like
    look make many may maybe more much must my never new next no not note now of often on
    once one only or other our please put read remember see she should start step still
    such take tell than thank thanks that their them then they're think those through to
    today too try two use very want was we well were what where which who why will with
    would yes you your
    """
)


@dataclass
class _Token:
    """One Punkt word token and the annotations the two passes give it."""

    text: str
    sentbreak: bool = False
    abbreviation: bool = False
    ellipsis: bool = False

    @property
    def type(self) -> str:
        lowered = self.text.lower()
        return "##number##" if _NUMBER.match(lowered) else lowered

    @property
    def type_no_period(self) -> str:
        typ = self.type
        return typ[:-1] if len(typ) > 1 and typ.endswith(".") else typ

    @property
    def period_final(self) -> bool:
        return self.text.endswith(".")


def _first_pass(token: _Token) -> None:
    text = token.text
    if text in (".", "?", "!"):
        token.sentbreak = True
    elif _ELLIPSIS.match(text):
        token.ellipsis = True
    elif token.period_final and not text.endswith(".."):
        stem = text[:-1].lower()
        if stem in _ABBREVIATIONS or stem.split("-")[-1] in _ABBREVIATIONS:
            token.abbreviation = True
        else:
            token.sentbreak = True


def _starts_sentence(token: _Token) -> bool | None:
    """Punkt's orthographic heuristic, approximated: does ``token`` start a sentence?

    False for punctuation and lower-case words, True for a capitalised frequent sentence
    starter, None ("cannot tell") otherwise. The model also answers True for capitalised
    words it saw in lower case but never capitalised mid-sentence; without its statistics
    those stay None, which only matters right after an abbreviation or an ellipsis.
    """
    if token.text in (";", ":", ",", ".", "!", "?"):
        return False
    first = token.text[0]
    if first.islower():
        return False
    if first.isupper() and token.type_no_period in _SENTENCE_STARTERS:
        return True
    return None


def _second_pass(token: _Token, following: _Token) -> None:
    if not token.period_final:
        return
    is_initial = bool(_INITIAL.match(token.text))
    next_word = following.type_no_period
    if (token.abbreviation or token.ellipsis) and not is_initial:
        if _starts_sentence(following) is True:
            token.sentbreak = True
        return
    if is_initial or token.type_no_period == "##number##":
        starter = _starts_sentence(following)
        name_like = (
            starter is None
            and is_initial
            and following.text[0].isupper()
            and next_word not in _FREQUENT_WORDS
        )
        if starter is False or name_like:
            token.sentbreak = False
            token.abbreviation = True


def _context_has_break(context: str) -> bool:
    """Whether a break falls inside ``context`` (the word ending in the candidate mark plus
    what follows it), with at least one token after it."""
    tokens = [_Token(match.group()) for match in _WORD_TOKEN.finditer(context)]
    for token in tokens:
        _first_pass(token)
    for token, following in pairwise(tokens):
        _second_pass(token, following)
    return any(token.sentbreak for token in tokens[:-1])


def _break_slices(text: str) -> list[tuple[int, int]]:
    """Start/end offsets of the sentences, before realignment."""
    slices: list[tuple[int, int]] = []
    last_break = 0
    chunks = list(_CHUNK.finditer(text))
    for index, chunk in enumerate(chunks):
        word = chunk.group()
        has_next_chunk = index + 1 < len(chunks)
        # Only the last candidate of a whitespace-free chunk is judged: earlier marks in the
        # same chunk ("wow!!!") are part of its context.
        candidate = -1
        for position, char in enumerate(word):
            if char not in ".?!":
                continue
            at_end = position == len(word) - 1
            followed_by_punctuation = not at_end and word[position + 1] in _NON_WORD_CHARS
            if (at_end and has_next_chunk) or followed_by_punctuation:
                candidate = position
        if candidate < 0:
            continue
        end = chunk.start() + candidate + 1
        if candidate == len(word) - 1:
            after_start = chunks[index + 1].start()
            context = word + text[chunk.end() : chunks[index + 1].end()]
        else:
            after_start = end
            context = word[: candidate + 2]
        if _context_has_break(context):
            slices.append((last_break, end))
            last_break = after_start
    slices.append((last_break, len(text.rstrip())))
    return slices


def count_sentences(text: str) -> int:
    """Number of sentences in ``text``, following the reference's Punkt segmentation.

    >>> count_sentences("It rained. We stayed in! Did you?")
    3
    >>> count_sentences("Dr. Smith met Mr. Jones at 5 p.m. today.")
    1
    """
    slices = _break_slices(text)
    count = 0
    shift = 0
    for index, (start, end) in enumerate(slices):
        start += shift
        shift = 0
        if index + 1 < len(slices):
            next_start, _ = slices[index + 1]
            closers = _REALIGN.match(text, next_start)
            if closers:
                # The closing quote/bracket joins this sentence; the next one starts after it.
                shift = closers.end() - next_start
                end = next_start + len(closers.group().rstrip())
        if end > start:
            count += 1
    return count
