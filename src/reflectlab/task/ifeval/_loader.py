"""Reading IFEval's JSONL files: the prompts with their instructions, and model responses.

Every problem is an :class:`~reflectlab.errors.InputError` naming the file, the line and the
field (down to ``kwargs[1].num_words``), raised before anything is scored: a bad row must not
crash a run half-way or be dropped silently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from reflectlab.errors import InputError
from reflectlab.task._rows import read_jsonl
from reflectlab.task.ifeval._args import IFEvalInstructionError
from reflectlab.task.ifeval._evaluation import IFEvalRecord

__all__ = ["load_ifeval_inputs", "load_ifeval_responses"]


def _record(path: Path, number: int, row: Mapping[str, Any]) -> IFEvalRecord:
    def fail(field: str, message: str) -> InputError:
        return InputError(message, path=str(path), line=number, field=field)

    key = row.get("key")
    if isinstance(key, bool) or not isinstance(key, int | str) or key == "":
        raise fail("key", f"must be an integer or a non-empty string, got {key!r}")
    prompt = row.get("prompt")
    if not isinstance(prompt, str):
        raise fail("prompt", f"must be a string, got {type(prompt).__name__}")
    instruction_ids = row.get("instruction_id_list")
    if (
        not isinstance(instruction_ids, list)
        or not instruction_ids
        or not all(isinstance(item, str) for item in instruction_ids)
    ):
        raise fail("instruction_id_list", "must be a non-empty list of instruction ids")
    kwargs = row.get("kwargs")
    if not isinstance(kwargs, list) or not all(isinstance(item, dict) for item in kwargs):
        raise fail("kwargs", "must be a list of objects, one per instruction")
    if len(kwargs) != len(instruction_ids):
        raise fail(
            "kwargs",
            f"has {len(kwargs)} entries for {len(instruction_ids)} instructions",
        )
    try:
        return IFEvalRecord(
            id=str(key),
            prompt=prompt,
            instruction_ids=tuple(instruction_ids),
            kwargs=tuple(kwargs),
        )
    except IFEvalInstructionError as error:
        index = instruction_ids.index(error.instruction_id)
        field = (
            f"instruction_id_list[{index}]"
            if error.argument is None
            else f"kwargs[{index}].{error.argument}"
        )
        raise fail(field, str(error)) from None


def load_ifeval_inputs(path: str | Path) -> list[IFEvalRecord]:
    """The records of an IFEval input file (``input_data.jsonl`` layout), in file order.

    Each line holds ``key``, ``prompt``, ``instruction_id_list`` and ``kwargs``. Instruction
    ids and their arguments are validated here; ``null`` arguments are ignored, so the
    Hugging Face copy (which lists every argument name on every instruction) loads too.

    >>> records = load_ifeval_inputs("input_data.jsonl")  # doctest: +SKIP
    >>> records[0].id, records[0].instruction_ids[0]  # doctest: +SKIP
    ('1000', 'punctuation:no_comma')
    """
    path = Path(path)
    records: list[IFEvalRecord] = []
    seen: set[str] = set()
    for number, row in read_jsonl(path):
        record = _record(path, number, row)
        if record.id in seen:
            raise InputError(
                f"duplicate key {record.id!r}", path=str(path), line=number, field="key"
            )
        seen.add(record.id)
        records.append(record)
    if not records:
        raise InputError("no records", path=str(path))
    return records


def load_ifeval_responses(path: str | Path, records: Sequence[IFEvalRecord]) -> list[str]:
    """The responses in ``path`` (lines of ``{"prompt": ..., "response": ...}``), aligned
    with ``records`` by prompt text, as IFEval's own response files are keyed.

    Responses to prompts that are not among ``records`` are ignored; a record without a
    response, or a prompt answered twice with different texts, is an error.
    """
    path = Path(path)
    by_prompt: dict[str, str] = {}
    for number, row in read_jsonl(path):
        prompt, response = row.get("prompt"), row.get("response")
        if not isinstance(prompt, str):
            raise InputError("must be a string", path=str(path), line=number, field="prompt")
        if not isinstance(response, str):
            raise InputError("must be a string", path=str(path), line=number, field="response")
        if by_prompt.get(prompt, response) != response:
            raise InputError(
                "a second, different response to the same prompt",
                path=str(path),
                line=number,
                field="response",
            )
        by_prompt[prompt] = response
    missing = [record.id for record in records if record.prompt not in by_prompt]
    if missing:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise InputError(f"no response for {len(missing)} record(s): {shown}", path=str(path))
    return [by_prompt[record.prompt] for record in records]
