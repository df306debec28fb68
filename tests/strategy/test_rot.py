"""``rot`` (Hui et al. 2024): search trees on training samples, values from their gold labels,
important states, the authors' reflection and merge prompts, guidelines as a test-time prefix.

The scripted solver answers by what the prompt asks: a search step (the nth identical request
gets the nth scripted child), a reflection, a merge, or a test question.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest

from reflectlab.errors import BudgetExceeded, ConfigError
from reflectlab.model import MemoryCache, capture_calls, get_model
from reflectlab.model.providers.mock import MockRequest
from reflectlab.strategy import (
    TRAIN_ORACLE,
    Budget,
    OfflineContext,
    StrategyContext,
    get_strategy,
    run_strategy,
    strategy_info,
)
from reflectlab.strategy._tree import TreeNode, back_up, grow_tree, important_states
from reflectlab.strategy.rot import (
    MERGE_PROMPT,
    REFLECT_SYSTEM,
    SEARCH_EXAMPLES,
    parse_step,
)
from reflectlab.task import Sample
from support.numbers import NumberTask

TRAIN = [Sample(id=f"t{i}", input=f"What is {i}+{i}?", target=str(2 * i)) for i in (1, 2)]
TEST = Sample(id="0", input="What is 3+3?", target="6")
GUIDE = "GUIDE: add the two numbers, then check the sum."


def question_of(text: str) -> int:
    return int(re.findall(r"What is (\d+)\+", text)[-1])


def scripted(*, multi_step: bool = False) -> Any:
    """Right first child, wrong second child at the root; with ``multi_step`` the first child
    is a non-final sub-question whose forced last step answers right."""
    seen: Counter[str] = Counter()

    def reply(request: MockRequest) -> str:
        text = request.prompt
        if "decompose it into sub-questions" in text:
            seen[text] += 1
            i = question_of(text.split("Question 3:")[1])
            if "Write only its answer" in text:  # the forced last step
                return f"Answer 3.2: So it is {2 * i}. The answer is {2 * i}."
            if seen[text] == 1 and multi_step:
                return f"Question 3.1: What is {i} doubled?\nAnswer 3.1: The answer is {2 * i}."
            right = 2 * i if seen[text] == 1 else 99
            return (
                f"Question 3.1: Now we can answer the question: What is {i}+{i}?\n"
                f"Answer 3.1: {i} + {i} = {right}. The answer is {right}.\nQuestion 3.2: extra"
            )
        if text.startswith("Below are some examples of the process."):
            return "Summarization: the second attempt mis-added.\nPolicy: Check the sum twice."
        if text.startswith("The following are some policies."):
            return GUIDE
        return f"Answer: {2 * question_of(text)}"

    return reply


def models(script: Any, critic: Any = None) -> dict[str, Any]:
    out = {"model": get_model("mock/solver", outputs=script, cache=MemoryCache())}
    if critic is not None:
        out["critic"] = get_model("mock/critic", outputs=critic, cache=MemoryCache())
    return out


async def learn(
    params: dict[str, Any], *, script: Any = None, critic: Any = None, **kw: Any
) -> Any:
    info = strategy_info("rot")
    resolved = info.validate(params)
    octx = OfflineContext(
        task=NumberTask([*TRAIN, TEST]), train=TRAIN, **models(script or scripted(), critic), **kw
    )
    assert info.offline is not None
    with capture_calls() as calls:
        prepared = await info.offline.run(octx, resolved)
    return octx, prepared, calls


PARAMS = {"width": 2, "iterations": 2, "depth": 2}


async def test_offline_stage_searches_values_reflects_and_merges() -> None:
    octx, prepared, calls = await learn(PARAMS)
    assert Counter(c.role for c in calls) == {"search": 4, "reflect": 1, "merge": 1}
    assert all(c.model == "mock/solver" for c in calls)
    assert prepared.params == {"guidelines": GUIDE}
    record = prepared.record
    assert record["important_states"] == 2 and record["states_reflected"] == 2
    assert record["policies"] == ["Check the sum twice."]
    assert [t["correct_leaves"] for t in record["trees"]] == [1, 1]
    # Gold labels were used, one recorded use per training sample, on training samples only.
    assert len(octx.oracle_reasons) == 2
    assert all("training" in r for r in octx.oracle_reasons)


async def test_search_prompt_is_raps_and_the_step_reply_is_cut_at_one_step() -> None:
    _, _, calls = await learn(PARAMS)
    first = calls[0].messages[0].content
    assert first.startswith(
        "Given a question, please decompose it into sub-questions. For each sub-question, "
        'please answer it in a complete sentence, ending with "The answer is".'
    )
    assert SEARCH_EXAMPLES in first and "Question 3: What is 1+1?\n" in first
    assert calls[0].config.temperature == 0.8
    # The reply's extra "Question 3.2: extra" is not part of the step.
    reflect = next(c for c in calls if c.role == "reflect")
    assert "extra" not in reflect.messages[1].content


async def test_reflection_prompt_compares_the_children_with_their_values() -> None:
    _, _, calls = await learn(PARAMS)
    reflect = next(c for c in calls if c.role == "reflect")
    assert reflect.messages[0].content == REFLECT_SYSTEM
    user = reflect.messages[1].content
    assert user.startswith("Below are some examples of the process.\nState 0:\nQuestion 0: ")
    assert (
        "Partial solution 0: \nPossible Action & Response & Rewards:\n\n"
        "Subquestion: Now we can answer the question: What is 1+1? Subanswer: 1 + 1 = 2. "
        "The answer is 2. Reward: 1\n"
        "Subquestion: Now we can answer the question: What is 1+1? Subanswer: 1 + 1 = 99. "
        "The answer is 99. Reward: 0"
    ) in user
    assert "State 1:\nQuestion 1: What is 2+2?" in user
    assert user.endswith("Please follow this format: Summarization: ...\nPolicy: ...")
    merge = next(c for c in calls if c.role == "merge")
    assert merge.messages[0].content == MERGE_PROMPT.format(
        policies="Policy 0:\nCheck the sum twice."
    )


async def test_partial_solution_lists_the_path_with_its_values() -> None:
    _, prepared, calls = await learn({**PARAMS, "iterations": 3}, script=scripted(multi_step=True))
    # Root: a two-step path (right) and a wrong final step; the forced last step says
    # "Now we can answer the question: <question>" (RAP's depth-limit rule).
    # Per sample: the two-step path (2 calls), the wrong final step, and in the third
    # iteration a second forced last step under the least-visited open child.
    assert Counter(c.role for c in calls)["search"] == 2 * 4
    assert prepared.record["important_states"] == 2
    last = [
        c.messages[-1].content
        for c in calls
        if c.role == "search" and "Write only its answer" in c.messages[-1].content
    ]
    assert last and "Question 3.1: What is 1 doubled?\nAnswer 3.1:" in last[0]


async def test_critic_feedback_reflects_and_merges_on_the_critic_model() -> None:
    def critic(request: MockRequest) -> str:
        if request.prompt.startswith("Below"):
            return "Policy: from the critic."
        return "CRITIC GUIDE"

    _, prepared, calls = await learn({**PARAMS, "feedback": "critic"}, critic=critic)
    assert {c.role: c.model for c in calls if c.role != "search"} == {
        "reflect": "mock/critic",
        "merge": "mock/critic",
    }
    assert {c.model for c in calls if c.role == "search"} == {"mock/solver"}
    assert prepared.params["guidelines"] == "CRITIC GUIDE"


async def test_critic_feedback_without_a_critic_model_is_refused() -> None:
    with pytest.raises(ConfigError, match="--critic-model"):
        await learn({**PARAMS, "feedback": "critic"})


async def test_no_important_state_gives_no_guidelines_and_no_reflection() -> None:
    def always_right(request: MockRequest) -> str:
        i = question_of(request.prompt.split("Question 3:")[-1])
        return (
            f"Question 3.1: Now we can answer the question: x\nAnswer 3.1: The answer is {2 * i}."
        )

    _, prepared, calls = await learn(PARAMS, script=always_right)
    assert {c.role for c in calls} == {"search"}
    assert prepared.params == {"guidelines": ""}


async def test_a_per_sample_budget_truncates_the_training_search() -> None:
    _, prepared, calls = await learn(PARAMS, budget=Budget(max_calls=1))
    assert Counter(c.role for c in calls)["search"] == 2  # one call per training sample
    assert prepared.record["notes"]["truncated_trees"] == 2
    assert prepared.record["important_states"] == 0


def ctx_for_test(script: Any) -> StrategyContext:
    task = NumberTask([TEST])
    return StrategyContext(**models(script), task=task, sample=TEST)


async def test_guidelines_are_the_prefix_of_the_test_prompt_and_no_gold_reaches_it() -> None:
    ctx = ctx_for_test(scripted())
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("rot", guidelines=GUIDE), ctx)
    [call] = calls
    assert (call.role, call.round) == ("draft", 0)
    assert call.messages[-1].content == f"{GUIDE}\nWhat is 3+3?\nEnd with 'Answer: <number>'."
    assert result.final_response == "Answer: 6"
    # Not oracle-assisted (no test gold), but never plain self-correction either.
    assert not result.oracle_assisted
    assert result.feedback_kinds == ["intrinsic", TRAIN_ORACLE]
    assert result.notes["train_labels"]


async def test_empty_guidelines_send_the_tasks_own_prompt() -> None:
    ctx = ctx_for_test(scripted())
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("rot", guidelines=""), ctx)
    assert calls[0].messages[-1].content == "What is 3+3?\nEnd with 'Answer: <number>'."
    assert result.feedback_kinds == [] and "no_guidelines" in result.notes


async def test_without_guidelines_or_offline_stage_the_strategy_says_how_to_get_them() -> None:
    result = await run_strategy(get_strategy("rot"), ctx_for_test(scripted()))
    assert result.error_kind == "ConfigError" and "train=N" in (result.error or "")


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"width": 1}, r"'width' = 1.*greater than or equal to 2"),
        ({"threshold": 0}, r"'threshold' = 0"),
        ({"temperature": 0.0}, r"'temperature'"),
        ({"feedback": "oracle"}, r"cannot use feedback 'oracle'"),
        ({"depth": 11}, r"'depth' = 11"),
        ({"beam": 2}, r"no parameter\(s\) \['beam'\]"),
    ],
)
def test_bad_parameters_are_refused_with_the_allowed_range(
    params: dict[str, Any], match: str
) -> None:
    with pytest.raises(ConfigError, match=match):
        get_strategy("rot", **params)


def test_step_parsing() -> None:
    step, final = parse_step("**Question 3.1:** How many?\n**Answer 3.1:** Two. The answer is 2.")
    assert (step.question, step.answer, final) == ("How many?", "Two. The answer is 2.", False)
    parsed = parse_step("Question 3.2: Now we can answer the question: x\nAnswer 3.2: 5")
    assert parsed is not None and parsed[1]
    assert parse_step("The answer is 4.") is None
    forced = parse_step("Answer 3.5: The answer is 4.", forced="What?")
    assert forced is not None and forced[1] and forced[0].answer == "The answer is 4."


async def test_tree_values_are_leaf_means_and_importance_is_the_value_rule() -> None:
    outcomes = iter([(("a", True)), ("b", False), ("c", True), ("d", True), ("e", True)])

    async def expand(node: TreeNode[str]) -> tuple[str, bool]:
        return next(outcomes)

    root: TreeNode[str] = TreeNode(step=None, depth=0)
    assert await grow_tree(root, expand, width=2, iterations=5, max_depth=3)
    # a (terminal), then b -> c under it (b not final), then the root is full and finished
    # paths stop: b gets a second child d; e never grows (every path is finished).
    a, b = root.children
    assert (a.step, b.step, [c.step for c in b.children]) == ("a", "b", ["c", "d"])
    rewards = {"a": 0.0, "c": 1.0, "d": 1.0}
    for leaf in root.leaves():
        leaf.reward = rewards[str(leaf.step)]
    back_up(root)
    assert (root.value, a.value, b.value) == (2 / 3, 0.0, 1.0)
    assert important_states(root, 0.1) == [root]  # b's children agree: not important
    assert important_states(root, 0.6) == []


async def test_grow_tree_keeps_what_it_grew_when_a_budget_stops_it() -> None:
    async def expand(node: TreeNode[str]) -> tuple[str, bool]:
        if node.depth == 1:
            raise BudgetExceeded("max_calls=1 reached")
        return "x", False

    root: TreeNode[str] = TreeNode(step=None, depth=0)
    assert not await grow_tree(root, expand, width=2, iterations=3, max_depth=3)
    assert [c.step for c in root.children] == ["x"] and root.leaves() == []
    back_up(root)
    assert root.children == [] and root.value is None
