"""Generated multi-constraint writing tasks: satisfiable, checked, and fed back in words."""

from __future__ import annotations

from typing import Any

from reflectlab.task import ConstraintsTask, Sample, get_task

SENTENCE = "this short text talks about the topic in simple words and keeps a calm tone"


def _satisfy(constraints: list[dict[str, Any]]) -> str:
    """Write a reply meeting every constraint, from the constraint data alone. If this works
    for every generated item, no item asks for something contradictory."""
    spec = {c["id"]: c["kwargs"] for c in constraints}
    words: list[str] = []
    if "keywords:existence" in spec:
        words += ["it", "mentions", *spec["keywords:existence"]["keywords"]]
    if "keywords:frequency" in spec:
        kw = spec["keywords:frequency"]
        words += [kw["keyword"]] * kw["frequency"]
    if "detectable_content:number_placeholders" in spec:
        words += ["[name]", "[place]"]
    body = [" ".join(words + SENTENCE.split()) + "."]
    length = spec.get("length_constraints:number_words")
    if length and length["relation"] == "at least":
        while sum(len(p.split()) for p in body) < length["num_words"] + 5:
            body.append(SENTENCE + ".")
    if "detectable_format:number_bullet_lists" in spec:
        k = spec["detectable_format:number_bullet_lists"]["num_bullets"]
        text = " ".join(body) + "\n" + "\n".join(f"* point {i} of the list" for i in range(k))
    elif "length_constraints:number_paragraphs" in spec:
        k = spec["length_constraints:number_paragraphs"]["num_paragraphs"]
        parts = [" ".join(body)] + [SENTENCE + "." for _ in range(k - 1)]
        text = "\n\n***\n\n".join(parts)
    elif "detectable_format:number_highlighted_sections" in spec:
        k = spec["detectable_format:number_highlighted_sections"]["num_highlights"]
        text = " ".join(body) + " " + " ".join(f"*part {i}*" for i in range(k))
    else:
        text = " ".join(body)
    if "detectable_format:title" in spec:
        text = "<<a short title>>\n\n" + text
    if "startend:end_checker" in spec:
        text += "\n\n" + spec["startend:end_checker"]["end_phrase"]
    if "detectable_content:postscript" in spec:
        text += "\n\nP.S. " + SENTENCE + "."
    return text


async def test_every_generated_item_can_be_satisfied_and_is_then_correct() -> None:
    task = get_task("constraints", seed=0, n=200)
    assert isinstance(task, ConstraintsTask)
    counts = set()
    for sample in task.samples():
        constraints = sample.metadata["constraints"]
        counts.add(len(constraints))
        reply = _satisfy(constraints)
        score = await task.score(sample, reply)
        assert score.correct, (sample.input, reply, score.reason)
        check = await task.oracle_check(sample, reply)
        assert check.passed and check.feedback == f"All {len(constraints)} constraints are met."
    assert counts == {2, 3, 4, 5}


def _sample_with(task: ConstraintsTask, instruction_id: str) -> Sample:
    return next(
        s for s in task.samples() if instruction_id in [c["id"] for c in s.metadata["constraints"]]
    )


async def test_check_names_unmet_constraints_in_words() -> None:
    task = get_task("constraints", seed=0, n=100)
    assert isinstance(task, ConstraintsTask)
    sample = _sample_with(task, "punctuation:no_comma")
    constraints = sample.metadata["constraints"]
    reply = _satisfy(constraints).replace("simple words", "simple, clear words")
    check = await task.oracle_check(sample, reply)
    position = [c["id"] for c in constraints].index("punctuation:no_comma") + 1
    assert not check.passed
    assert check.feedback == (
        f"1 of {len(constraints)} constraints are not met:\n"
        f"- constraint {position}: Do not use any commas."
    )
    score = await task.score(sample, reply)
    assert not score.correct
    assert score.value == (len(constraints) - 1) / len(constraints)
    assert score.reason == "not met: punctuation:no_comma"


async def test_empty_reply_meets_nothing() -> None:
    task = get_task("constraints", n=3)
    sample = task.samples()[0]
    score = await task.score(sample, "")
    assert not score.correct and score.value == 0.0 and score.reason == "empty reply"
    assert task.extract(sample, "  ").value is None


def test_prompt_lists_constraints_and_no_contradictory_pairs() -> None:
    task = get_task("constraints", seed=4, n=100, min_constraints=3, max_constraints=4)
    for sample in task.samples():
        groups = sample.metadata["groups"]
        assert 3 <= len(groups) <= 4 and len(set(groups)) == len(groups)
        assert not {"case", "ending"} <= set(groups)
        listed = sample.input.split("constraints:\n")[1].splitlines()
        assert len(listed) == len(groups)
    assert task.samples() == get_task("constraints", seed=4, n=100, min_constraints=3,
                                      max_constraints=4).samples()  # fmt: skip
