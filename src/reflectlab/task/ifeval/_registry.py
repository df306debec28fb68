"""The 25 IFEval instruction ids and the one entry point that checks any of them."""

from __future__ import annotations

from collections.abc import Mapping

from reflectlab.task.ifeval._args import Builder, Check, IFEvalInstructionError, InstructionArgs
from reflectlab.task.ifeval._checks_format import FORMAT_BUILDERS
from reflectlab.task.ifeval._checks_text import TEXT_BUILDERS

__all__ = ["INSTRUCTION_IDS", "build_check", "check_instruction"]

_BUILDERS: dict[str, Builder] = {**TEXT_BUILDERS, **FORMAT_BUILDERS}

#: Every supported instruction id (``group:name``), sorted.
INSTRUCTION_IDS: tuple[str, ...] = tuple(sorted(_BUILDERS))


def build_check(instruction_id: str, kwargs: Mapping[str, object]) -> Check:
    """Validate ``kwargs`` for ``instruction_id`` and return its checker.

    Raises :class:`IFEvalInstructionError` for an unknown id (never a silent pass) and for a
    missing, ill-typed or unknown argument.
    """
    builder = _BUILDERS.get(instruction_id)
    if builder is None:
        raise IFEvalInstructionError(
            f"unknown IFEval instruction {instruction_id!r}; supported: "
            + ", ".join(INSTRUCTION_IDS),
            instruction_id=instruction_id,
        )
    args = InstructionArgs(instruction_id, kwargs)
    check = builder(args)
    args.finish()
    return check


def check_instruction(
    instruction_id: str, kwargs: Mapping[str, object], prompt: str, response: str
) -> bool:
    """Whether ``response`` follows one instruction (strict, i.e. the response as given).

    A blank response follows no instruction, as in IFEval: otherwise "do not use commas"
    would reward saying nothing. ``prompt`` is the request being answered; none of the 25
    IFEval checks needs it (``combination:repeat_prompt`` carries its own
    ``prompt_to_repeat``), but it is part of the call so that checks that do fit the same
    signature.

    >>> check_instruction("punctuation:no_comma", {}, "Answer without commas.", "Yes it is.")
    True
    >>> check_instruction("keywords:existence", {"keywords": ["moon"]}, "...", "The sun.")
    False
    """
    del prompt  # see the docstring: accepted for a uniform signature
    check = build_check(instruction_id, kwargs)
    return bool(response.strip()) and check(response)
