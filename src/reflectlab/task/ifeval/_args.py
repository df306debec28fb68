"""Validated access to an instruction's keyword arguments.

The reference checker fills a missing or invalid argument with a *random* value, so a typo in
a data file silently changes what is measured. Here every argument an instruction needs must
be present with the right type, and an argument the instruction does not know is an error (a
misspelt ``num_sentence`` must not pass unnoticed). Arguments whose value is ``null`` are
ignored: the Hugging Face copy of IFEval stores every argument name on every instruction with
``null`` for the ones that do not apply.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from reflectlab.errors import ConfigError

__all__ = [
    "COMPARISONS",
    "Builder",
    "Check",
    "IFEvalInstructionError",
    "InstructionArgs",
    "compare",
]

#: A ready checker: response text -> followed or not.
Check = Callable[[str], bool]

#: Turns validated arguments into a checker, so a record's checkers are built once and then
#: applied to the strict response and to each loose variant.
Builder = Callable[["InstructionArgs"], Check]

#: The two relations IFEval uses, as ``(relation, threshold)`` -> bool on a count.
COMPARISONS = ("less than", "at least")


class IFEvalInstructionError(ConfigError):
    """An unknown instruction id, or a missing/ill-typed/unknown argument of a known one.

    ``instruction_id`` names the instruction; ``argument`` the offending keyword argument, or
    ``None`` when the instruction id itself is unknown.
    """

    def __init__(self, message: str, *, instruction_id: str, argument: str | None = None) -> None:
        super().__init__(message)
        self.instruction_id = instruction_id
        self.argument = argument


def compare(count: int, relation: str, threshold: int) -> bool:
    """``count < threshold`` for "less than", ``count >= threshold`` for "at least"."""
    return count < threshold if relation == "less than" else count >= threshold


class InstructionArgs:
    """The keyword arguments of one instruction, read with type checks.

    Each getter marks its argument as used; :meth:`finish` then rejects the arguments no
    getter asked for. Errors are :class:`IFEvalInstructionError`, naming the instruction and
    the argument.
    """

    def __init__(self, instruction_id: str, kwargs: Mapping[str, object]) -> None:
        self.instruction_id = instruction_id
        self._values = {name: value for name, value in kwargs.items() if value is not None}
        self._used: set[str] = set()

    def invalid(self, name: str, problem: str) -> IFEvalInstructionError:
        """The error to raise when argument ``name`` has a ``problem``."""
        return IFEvalInstructionError(
            f"instruction {self.instruction_id!r}: argument {name!r} {problem}",
            instruction_id=self.instruction_id,
            argument=name,
        )

    def _get(self, name: str) -> object:
        self._used.add(name)
        if name not in self._values:
            raise self.invalid(name, "is required")
        return self._values[name]

    def integer(self, name: str, *, minimum: int = 0) -> int:
        """A whole number ``>= minimum`` (``true``/``false`` are not numbers here)."""
        value = self._get(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.invalid(name, f"must be an integer, got {value!r}")
        if value < minimum:
            raise self.invalid(name, f"must be >= {minimum}, got {value}")
        return value

    def text(self, name: str, *, strip: bool = True) -> str:
        """A non-empty string (stripped of surrounding whitespace unless ``strip=False``)."""
        value = self._get(name)
        if not isinstance(value, str) or not value.strip():
            raise self.invalid(name, f"must be a non-empty string, got {value!r}")
        return value.strip() if strip else value

    def relation(self, name: str) -> str:
        """``"less than"`` or ``"at least"``."""
        value = self._get(name)
        if value not in COMPARISONS:
            raise self.invalid(name, f"must be one of {list(COMPARISONS)}, got {value!r}")
        assert isinstance(value, str)
        return value

    def text_list(self, name: str) -> list[str]:
        """A non-empty list of non-empty strings."""
        value = self._get(name)
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(item, str) and item.strip() for item in value)
        ):
            raise self.invalid(name, f"must be a non-empty list of strings, got {value!r}")
        return [item for item in value if isinstance(item, str)]

    def finish(self) -> None:
        """Reject arguments that no getter read."""
        unknown = sorted(set(self._values) - self._used)
        if unknown:
            raise self.invalid(unknown[0], "is not an argument of this instruction")
