"""Reader for MT-Bench judge prompts (Zheng et al., "Judging LLM-as-a-Judge with MT-Bench and
Chatbot Arena", NeurIPS 2023; ``fastchat/llm_judge/data/judge_prompts.jsonl``) (private).

Each line: ``name``, ``type`` (``pairwise`` | ``single``), ``system_prompt``,
``prompt_template`` (``str.format`` fields such as ``{question}``, ``{answer_a}``),
``description``, ``category`` and ``output_format`` (``[[A]]`` or ``[[rating]]``).
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Literal

from reflectlab.errors import InputError
from reflectlab.judge._base import FrozenResult
from reflectlab.judge._jsonio import iter_jsonl, require_object, require_str

_TEXT_FIELDS = (
    "name",
    "system_prompt",
    "prompt_template",
    "description",
    "category",
    "output_format",
)


class MTBenchJudgePrompt(FrozenResult):
    """One MT-Bench judge prompt. ``template_fields`` lists the template's placeholders."""

    name: str
    type: Literal["pairwise", "single"]
    system_prompt: str
    prompt_template: str
    description: str
    category: str
    output_format: str
    template_fields: list[str]


def read_mt_bench_judge_prompts(path: str | Path) -> list[MTBenchJudgePrompt]:
    """Read ``judge_prompts.jsonl``; names must be unique."""
    prompts: list[MTBenchJudgePrompt] = []
    seen: set[str] = set()
    for line, raw in iter_jsonl(path):
        record = require_object(raw, path=path, line=line)
        text = {key: require_str(record, key, path=path, line=line) for key in _TEXT_FIELDS}
        kind = record.get("type")
        if kind not in ("pairwise", "single"):
            raise InputError(
                f"expected 'pairwise' or 'single', got {kind!r}",
                path=str(path),
                line=line,
                field="type",
            )
        if text["name"] in seen:
            raise InputError(
                f"duplicate prompt name {text['name']!r}", path=str(path), line=line, field="name"
            )
        seen.add(text["name"])
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(text["prompt_template"]) if f]
        except ValueError as exc:
            raise InputError(
                f"not a valid format template: {exc}",
                path=str(path),
                line=line,
                field="prompt_template",
            ) from exc
        prompts.append(
            MTBenchJudgePrompt(
                name=text["name"],
                type=kind,
                system_prompt=text["system_prompt"],
                prompt_template=text["prompt_template"],
                description=text["description"],
                category=text["category"],
                output_format=text["output_format"],
                template_fields=fields,
            )
        )
    return prompts
