"""``rot``: Reflection on search Trees — guidelines learned offline, a prompt prefix at test time.

Hui et al. 2024, "RoT: Enhancing Large Language Models with Reflection on Search Trees"
(arXiv:2404.05449). Prompts and procedure follow the authors' code
(github.com/huiwy/reflection-on-trees: ``rot_scripts/gsm8k_analysis.py``,
``reasoners/visualization/analyze.py``, ``prompts/gsm8k/prompt_pool.json``,
``reasoners/benchmark/gsm8k.py``). Two stages:

**Offline, once per run, on the task's training split** (``--task-option train=N``: the first
N samples, or ``train_file=PATH``; those samples are never scored):

1. *Search.* For each training question the solver grows a search tree over sub-question
   steps (RAP's GSM8K decomposition, the authors' search space): a state is the question
   plus the sub-questions answered so far; a step is one "Question i.k / Answer i.k" pair
   (role "search", at ``temperature``); a step whose sub-question starts "Now we can answer
   the question" is terminal, and at ``depth`` the last sub-question is forced to be that one
   (RAP's ``force_terminating_on_depth_limit``). ``iterations`` rollouts, at most ``width``
   children per state (RAP's ``n_iters`` = 3 and ``n_action`` = 4 are the defaults).
2. *Values.* Each terminal leaf is scored against the training sample's gold label — the
   oracle channel, on training data only — and values are backed up as the mean reward of the
   leaves below each state (the authors' ``backprop_rewards``).
3. *Important states.* A state is important when a child's value exceeds the state's value
   (the mean of its children's values) by at least ``threshold`` (the code's 0.1); at most
   ``max_states`` (the code's 30), training samples in order, states breadth first.
4. *Reflection* (role "reflect"): batches of ``batch`` (the code's 5) important states —
   each with its partial solution and every child's sub-question, sub-answer and value — go
   to the reflector with the authors' prompt, which asks to analyse the mistakes and write a
   "Policy:".
5. *Merging* (role "merge"): all policies are merged into one set of guidelines with the
   authors' merge prompt.

**Test time**, per sample (role "draft", round 0, one call): the guidelines, a newline, then
the task's own prompt — the authors' CoT use, ``guidelines + '\\n' + examples + prefix``.

The reflector is the solver itself (``feedback="intrinsic"``) or the critic model
(``feedback="critic"``: the paper's setting, a strong LLM summarising a weak LLM's trees).
``guidelines=TEXT`` skips the offline stage and uses TEXT (e.g. the authors' published ones).

Provenance, honestly: gold labels of *training* samples valued the trees the guidelines were
written from, so gold-derived information reaches every test prompt — as it does through
few-shot exemplars with gold answers — but no test sample's own label ever does. A test
result is therefore not ORACLE-ASSISTED; its feedback provenance lists ``train-oracle`` (and
the reflector's kind), e.g. ``intrinsic+train-oracle``: never plain self-correction. The
offline stage's own record lists its oracle uses, one per training sample, and is shown by
``reflectlab show`` and the report as oracle use on the training split. Its calls are
counted there, not in any test sample's figures. Guidelines given as a parameter are labelled
the same way (RoT guidelines come from gold-valued trees).

Deviations from the authors' code:

- The search grows trees by visit counts alone (each rollout descends to the least-visited
  unfinished child and adds one child where there is room), not RAP's MCTS with the model's
  self-evaluated rewards and confidence sampling: far fewer calls, and the search itself uses
  no reward; the values that select states are the gold-backed-up ones, as in the authors'
  analysis. One call writes one whole step (sub-question and answer); RAP asks for them in
  two calls. A chat model cannot continue a raw transcript, so the step prompt ends with
  our one-line instruction to write just the next step (:data:`NEXT_STEP`,
  :data:`LAST_STEP`); a reply in neither format is taken as a final answer (terminal) and
  counted in the record's ``unparsed_steps``. Two fixed exemplars (RAP samples its
  exemplars at random; the first exemplar's slip "The answer is 48." is theirs, kept).
- Their ``get_improving_nodes`` also adds random states (a ``method`` default the paper does
  not describe); only the value rule is used here.
- The reflection prompt's blocks are joined with newlines (the code concatenates them with
  none); values are printed to two decimals; the root's partial solution is empty.
- A reply without "Policy:" is used whole as the policy (the code would fail); counted in
  ``unparsed_reflections``. No important state at all (every leaf right, or every leaf
  wrong) gives no guidelines: the test prompt is then the task's own, noted per sample.
- One RoT iteration (the paper also iterates search -> guidelines -> search with them);
  test time is one chain-of-thought call on the task's own prompt, not a guided tree search.
- The run's per-sample budget applies to each training sample's search (a stopped search
  keeps its tree, counted in ``truncated_trees``); the run's token and cost budget is checked
  when the stage ends.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import Field

from reflectlab.errors import ConfigError
from reflectlab.model import ChatMessage
from reflectlab.strategy._context import StrategyContext
from reflectlab.strategy._offline import OfflineContext, OfflineStage, Prepared
from reflectlab.strategy._primitives import Conversation, ask, tally
from reflectlab.strategy._registry import StrategyFn, strategy
from reflectlab.strategy._tree import TreeNode, back_up, grow_tree, important_states

# huiwy/reflection-on-trees prompts/gsm8k/prompt_pool.json (RAP's): "instruction", verbatim,
# then the exemplars and "Question {idx}: {question}" with the steps so far.
SEARCH_PROMPT = (
    "Given a question, please decompose it into sub-questions. For each sub-question, please "
    'answer it in a complete sentence, ending with "The answer is". When the original question '
    'is answerable, please start the subquestion with "Now we can answer the question: ".\n\n'
    "{examples}\n\nQuestion {idx}: {question}\n{steps}"
)
# prompt_pool.json "interactive_examples" 1 and 2, verbatim with {idx} filled in as RAP does.
SEARCH_EXAMPLES = (
    "Question 1: Natalia sold clips to 48 of her friends in April, and then she sold half as "
    "many clips in May. How many clips did Natalia sell altogether in April and May?\n"
    "Question 1.1: How many clips did Natalia sell in May?\n"
    "Answer 1.1: Natalia sold 48 clips in April and half as many clips in May, so she sold "
    "48 / 2 = 24 clips in May. The answer is 48.\n"
    "Question 1.2: Now we can answer the question: How many clips did Natalia sell altogether "
    "in April and May?\n"
    "Answer 1.2: Natalia sold 48 clips in April and 24 clips in May, so altogether she sold "
    "48 + 24 = 72 clips. The answer is 72.\n\n"
    "Question 2: Weng earns $12 an hour for babysitting. Yesterday, she just did 50 minutes of "
    "babysitting. How much did she earn?\n"
    "Question 2.1: How much does Weng earn per minute?\n"
    "Answer 2.1: Since Weng earns $12 an hour for babysitting, she earns $12 / 60 = $0.2 per "
    "minute. The answer is 0.2.\n"
    "Question 2.2: Now we can answer the question: How much did she earn?\n"
    "Answer 2.2: Working 50 minutes, she earned $0.2 x 50 = $10. The answer is 10."
)
# Ours: what RAP's raw-text continuation after "Question {idx}.{k}:" does, for a chat model.
NEXT_STEP = (
    'Write only the next sub-question and its answer, as "Question {idx}.{k}: ..." and then '
    '"Answer {idx}.{k}: ...".'
)
# RAP's forced last step ("Now we can answer the question:" + the question), then ours.
LAST_STEP = (
    "Question {idx}.{k}: Now we can answer the question: {question}\n"
    'Write only its answer, as "Answer {idx}.{k}: ...".'
)
# rot_scripts/gsm8k_analysis.py, the reflection messages, verbatim.
REFLECT_SYSTEM = (
    "You are a math tutor. Now you are teaching a student who is solving a math word problem. "
    "Please summarize the following action, response and corresponding rewards given a state "
    "into a policy to achieve higher reward."
)
REFLECT_PROMPT = (
    "Below are some examples of the process.\n{states}\n\nPlease give suggestion on how to ask "
    "subquestions (take action) and answer the subquestions (response) to achieve higher "
    "reward. Please first analyze the mistakes and then summarize a policy. Your policy should "
    "be specific to help avoid making the same mistake. Please follow this format: "
    "Summarization: ...\nPolicy: ..."
)
# gsm8k_analysis.py, one state of the reflection prompt (a newline added before "Possible").
STATE_BLOCK = (
    "State {i}:\nQuestion {i}: {question}\nPartial solution {i}: {partial}\n"
    "Possible Action & Response & Rewards:\n\n{children}"
)
# reasoners/visualization/analyze.py get_node_details_gsm8k, one step, verbatim.
STEP_LINE = "Subquestion: {question} Subanswer: {answer} Reward: {reward}"
# gsm8k_analysis.py, the merge message, verbatim.
MERGE_PROMPT = (
    "The following are some policies. Please merge them as a comprehensive policy. Note you "
    "should keep the details in the merged policy and make sure that the merged policy is not "
    "too general.\n{policies}"
)
# reasoners/benchmark/gsm8k.py (CoT): guidelines + '\n' + the prompt.
GUIDED_PROMPT = "{guidelines}\n{prompt}"

#: The number of the question being solved, after the two exemplars.
_IDX = 3
_OPEN = r"\**\s*"
_STEP = re.compile(
    rf"{_OPEN}Question\s*\d+\.\d+\s*\**\s*:\**\s*(?P<q>.*?)\s*\n\s*"
    rf"{_OPEN}Answer\s*\d+\.\d+\s*\**\s*:\**\s*(?P<a>.*?)\s*(?=\n\s*\**\s*Question\s*\d|\Z)",
    re.S,
)
_ANSWER = re.compile(
    rf"{_OPEN}Answer\s*\d+\.\d+\s*\**\s*:\**\s*(?P<a>.*?)\s*(?=\n\s*\**\s*Question\s*\d|\Z)", re.S
)
_FINAL = "now we can answer the question"
_TRAIN_LABELS = "rot guidelines: learned from search trees valued by a training split's gold labels"


@dataclass(frozen=True)
class Step:
    """One sub-question and its answer."""

    question: str
    answer: str


def parse_step(reply: str, forced: str | None = None) -> tuple[Step, bool] | None:
    """The first sub-question/answer pair of ``reply`` and whether it ends the solution;
    with ``forced`` (the question of a forced last step), only the answer is read.
    ``None`` when the reply has neither."""
    if forced is not None:
        m = _ANSWER.search(reply)
        return (
            (Step(f"Now we can answer the question: {forced}", m.group("a")), True) if m else None
        )
    m = _STEP.search(reply)
    if m is None:
        return None
    question = m.group("q").strip()
    return Step(question, m.group("a").strip()), question.lower().startswith(_FINAL)


def _reward(value: float | None) -> str:
    return f"{round(value or 0.0, 2):g}"


def _steps_text(steps: list[Step]) -> str:
    return "".join(
        f"Question {_IDX}.{k}: {s.question}\nAnswer {_IDX}.{k}: {s.answer}\n"
        for k, s in enumerate(steps, 1)
    )


async def search_tree(
    ctx: StrategyContext, *, width: int, iterations: int, depth: int, temperature: float
) -> tuple[TreeNode[Step], bool]:
    """The training sample's search tree, its leaves rewarded by the gold label (the oracle
    channel: recorded on ``ctx``) and values backed up; and whether it grew to the end."""
    question = ctx.sample.input
    head = ctx.prompt("SEARCH_PROMPT", SEARCH_PROMPT)
    examples = ctx.prompt("SEARCH_EXAMPLES", SEARCH_EXAMPLES)

    async def expand(node: TreeNode[Step]) -> tuple[Step, bool]:
        k = node.depth + 1
        last = k >= depth
        tail = ctx.prompt("LAST_STEP", LAST_STEP) if last else ctx.prompt("NEXT_STEP", NEXT_STEP)
        text = head.format(
            examples=examples, idx=_IDX, question=question, steps=_steps_text(node.path())
        ) + tail.format(idx=_IDX, k=k, question=question)
        out = await ctx.generate(
            [ChatMessage(role="user", content=text)],
            role="search",
            round=None,
            temperature=temperature,
        )
        parsed = parse_step(out.text, forced=question if last else None)
        if parsed is None:  # not in the step format: taken as a final answer
            tally(ctx, "unparsed_steps")
            return Step("", out.text.strip()), True
        return parsed

    root: TreeNode[Step] = TreeNode(step=None, depth=0)
    complete = await grow_tree(root, expand, width=width, iterations=iterations, max_depth=depth)
    leaves = root.leaves()
    if leaves:
        oracle = ctx.use_oracle(
            "rot offline stage: the gold label of this training sample values the leaves of its "
            "search tree (training split only; never a test sample)"
        )
        for leaf in leaves:
            assert leaf.step is not None
            leaf.reward = float((await oracle.score(leaf.step.answer)).correct)
    back_up(root)
    return root, complete


def state_block(ctx: StrategyContext, i: int, node: TreeNode[Step]) -> str:
    """One important state as the reflection prompt shows it."""
    line = ctx.prompt("STEP_LINE", STEP_LINE)

    def show(n: TreeNode[Step]) -> str:
        assert n.step is not None
        return line.format(question=n.step.question, answer=n.step.answer, reward=_reward(n.value))

    partial = "\n".join(show(n) for n in node.ancestry())
    children = "\n".join(show(c) for c in node.children)
    return ctx.prompt("STATE_BLOCK", STATE_BLOCK).format(
        i=i, question=ctx.sample.input, partial=partial, children=children
    )


def parse_policy(reply: str) -> str | None:
    """The text after "Policy:" (``None`` if the reply has none)."""
    _, sep, policy = reply.partition("Policy:")
    return policy.strip() if sep else None


Feedback = Literal["intrinsic", "critic"]


async def learn_guidelines(octx: OfflineContext, params: dict[str, Any]) -> Prepared:
    """The offline stage (see the module docstring)."""
    if params["feedback"] == "critic" and octx.critic is None:
        raise ConfigError("rot:feedback=critic reflects with the critic model: pass --critic-model")
    contexts = octx.sample_contexts()
    grown = await asyncio.gather(
        *(
            search_tree(
                ctx,
                width=params["width"],
                iterations=params["iterations"],
                depth=params["depth"],
                temperature=params["temperature"],
            )
            for ctx in contexts
        )
    )
    found = [
        (ctx, node)
        for ctx, (tree, _) in zip(contexts, grown, strict=True)
        for node in important_states(tree, params["threshold"])
    ]
    used = found[: params["max_states"]]
    rctx = octx.context()
    reflector = rctx.critic if params["feedback"] == "critic" else None
    size = params["batch"]

    async def reflect(batch: list[tuple[StrategyContext, TreeNode[Step]]]) -> str:
        states = "\n".join(state_block(ctx, i, node) for i, (ctx, node) in enumerate(batch))
        messages = [
            ChatMessage(role="system", content=rctx.prompt("REFLECT_SYSTEM", REFLECT_SYSTEM)),
            ChatMessage(
                role="user",
                content=rctx.prompt("REFLECT_PROMPT", REFLECT_PROMPT).format(states=states),
            ),
        ]
        out = await rctx.generate(messages, role="reflect", round=None, model=reflector)
        policy = parse_policy(out.text)
        if policy is None:
            tally(rctx, "unparsed_reflections")
            return out.text.strip()
        return policy

    policies = list(
        await asyncio.gather(*(reflect(used[i : i + size]) for i in range(0, len(used), size)))
    )
    guidelines = ""
    if policies:
        joined = "\n\n".join(f"Policy {i}:\n{p}" for i, p in enumerate(policies))
        text = rctx.prompt("MERGE_PROMPT", MERGE_PROMPT).format(policies=joined)
        out = await rctx.generate(
            [ChatMessage(role="user", content=text)], role="merge", round=None, model=reflector
        )
        guidelines = out.text.strip()
    notes: dict[str, int] = {}
    for ctx in octx.contexts:
        for key, value in ctx.notes.items():
            if isinstance(value, int):
                notes[key] = notes.get(key, 0) + value
    truncated = sum(not complete for _, complete in grown)
    if truncated:
        notes["truncated_trees"] = truncated
    record = {
        "guidelines": guidelines,
        "reflector": params["feedback"],
        "train_ids": octx.train_ids,
        "trees": [
            {
                "sample_id": ctx.sample.id,
                "states": sum(1 for _ in tree.walk()),
                "leaves": len(tree.leaves()),
                "correct_leaves": sum(1 for leaf in tree.leaves() if leaf.reward),
                "complete": complete,
            }
            for ctx, (tree, complete) in zip(contexts, grown, strict=True)
        ],
        "important_states": len(found),
        "states_reflected": len(used),
        "policies": policies,
        "notes": notes,
    }
    return Prepared(params={"guidelines": guidelines}, record=record)


@strategy(
    paper="Hui et al., RoT: Enhancing Large Language Models with Reflection on Search Trees",
    year=2024,
    feedback=("intrinsic", "critic"),
    offline=OfflineStage(
        run=learn_guidelines,
        needed=lambda p: p.get("guidelines") is None,
        # a rollout per iteration, a step per level; a reflection per batch of states; a merge
        calls=lambda p, n: n * p["iterations"] * p["depth"] + -(-p["max_states"] // p["batch"]) + 1,
    ),
)
def rot(
    feedback: Feedback = "intrinsic",
    width: Annotated[int, Field(ge=2, le=8)] = 4,
    iterations: Annotated[int, Field(ge=1, le=64)] = 3,
    depth: Annotated[int, Field(ge=1, le=10)] = 5,
    threshold: Annotated[float, Field(gt=0.0, le=1.0)] = 0.1,
    max_states: Annotated[int, Field(ge=1, le=500)] = 30,
    batch: Annotated[int, Field(ge=1, le=50)] = 5,
    temperature: Annotated[float, Field(gt=0.0, le=2.0)] = 0.8,
    guidelines: str | None = None,
) -> StrategyFn:
    """Guidelines reflected from gold-valued search trees on a training split, as a prefix."""
    kind: Feedback = feedback

    async def run(ctx: StrategyContext) -> str:
        if guidelines is None:
            raise ConfigError(
                "rot has no guidelines: run it on a task with a training split (--task-option "
                "train=N) so its offline stage learns them, or pass guidelines=TEXT"
            )
        prompt = ctx.task.format_prompt(ctx.sample)
        if guidelines.strip():
            ctx.mark_train_labels(_TRAIN_LABELS)
            ctx.feedback_kinds.add(kind)
            prompt = ctx.prompt("GUIDED_PROMPT", GUIDED_PROMPT).format(
                guidelines=guidelines, prompt=prompt
            )
        else:
            ctx.notes["no_guidelines"] = "the offline stage found no important state"
        convo = Conversation.start(ctx, prompt=prompt)
        answer = await ask(ctx, convo, role="draft", round=0)
        ctx.checkpoint(answer, round=0)
        return answer

    return run
