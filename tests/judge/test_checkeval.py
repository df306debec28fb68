"""CheckEval (yukyunglee/CheckEval): shipped checklists, prompts, strict parsing, aggregation."""

from __future__ import annotations

import re

import pytest

from reflectlab.errors import ConfigError
from reflectlab.judge import (
    CheckEvalJudge,
    checkeval_dimensions,
    load_checkeval_checklist,
    parse_checkeval_answers,
)
from reflectlab.judge.checkeval import CHECKEVAL_SUMMEVAL_TEMPLATE, checkeval_messages
from reflectlab.judge.summary import summarize_judgments
from reflectlab.model import capture_calls, get_model
from reflectlab.model.providers.mock import MockRequest


def test_shipped_checklists_cover_the_published_dimensions_and_versions() -> None:
    assert checkeval_dimensions("summeval") == ["coherence", "consistency", "fluency", "relevance"]
    assert checkeval_dimensions("topical_chat") == [
        "coherence",
        "engagingness",
        "groundedness",
        "naturalness",
    ]
    seed = load_checkeval_checklist("summeval", "fluency", "seed")
    # The authors' prompt/summeval_questions/fluency_seed.yaml, split on "?".
    assert seed.sub_aspects == {
        "Formatting": [
            "Is the summary free from formatting issues and correctly capitalized throughout?"
        ],
        "Grammar": ["Are all sentences grammatically correct and free from errors?"],
        "Completeness": ["Are all sentences complete, with no fragments or missing components?"],
        "Readability": ["Is the summary easy to read, without unnecessary complexity?"],
    }
    assert seed.definition.startswith("the quality of individual sentences.")
    coherence = load_checkeval_checklist("summeval", "coherence", "elaboration")
    assert coherence.n_questions == 16 and next(iter(coherence.sub_aspects)) == "Topic Maintenance"
    assert all(q.endswith("?") for qs in coherence.sub_aspects.values() for q in qs)
    with pytest.raises(ConfigError, match="no CheckEval checklist"):
        load_checkeval_checklist("summeval", "engagingness")
    with pytest.raises(ConfigError, match="unknown CheckEval version"):
        load_checkeval_checklist("summeval", "fluency", "final")  # type: ignore[arg-type]


def test_prompt_is_the_authors_template_with_numbered_questions() -> None:
    seed = load_checkeval_checklist("summeval", "coherence", "seed")
    sub = next(iter(seed.sub_aspects))
    [message] = checkeval_messages(seed, sub, source="ARTICLE <questions>", response="SUMMARY")
    questions = "\n".join(f"Q{i}: {q}" for i, q in enumerate(seed.sub_aspects[sub], 1))
    expected = (
        CHECKEVAL_SUMMEVAL_TEMPLATE.replace("<aspect>", "coherence")
        .replace("<definition>", seed.definition)
        .replace("<questions>", questions)
        .replace("<source>", "ARTICLE <questions>")
        .replace("<summary>", "SUMMARY")
    )
    assert message.role == "user" and message.content == expected
    topical = load_checkeval_checklist("topical_chat", "groundedness", "seed")
    with pytest.raises(ConfigError, match="needs the corresponding fact"):
        checkeval_messages(topical, "Relevance", source="chat", response="r")
    [tc] = checkeval_messages(topical, "Relevance", source="CHAT", response="RESP", fact="FACT")
    assert '# Corresponding Fact #\n"FACT"' in tc.content and '# Response #\n"RESP"' in tc.content


def test_parsing_is_per_question_number_and_strict() -> None:
    reply = "Q1: Yes\nQ2: **No**\nQ3: [Yes]\nQ4: yes, but Q4: no\nQ10: Yes"
    parsed = parse_checkeval_answers(reply, 5)
    assert [p.answer for p in parsed] == [True, False, True, None, None]
    assert parsed[3].parse_error == "Q4 answered yes and no"
    assert parsed[4].parse_error == "no answer for Q5 (expected Yes/No)"
    # Q1 is not read from "Q10"; the format echo "Q1: [Your Answer]" is not an answer.
    assert parse_checkeval_answers("Q10: Yes\nQ1: [Your Answer]", 1)[0].answer is None


async def test_dimension_score_is_the_share_of_yes_with_unparsed_counted() -> None:
    checklist = load_checkeval_checklist("summeval", "fluency", "seed")

    def reply(request: MockRequest) -> str:
        if "Q1: Is the summary free from formatting" in request.prompt:
            return "Q1: Yes"
        if "Q1: Are all sentences grammatically" in request.prompt:
            return "Q1: No"
        if "Q1: Are all sentences complete" in request.prompt:
            return "I cannot tell."
        return "Q1: Yes"

    judge = CheckEvalJudge(
        get_model("mock/ce", outputs=reply), dimensions=["fluency"], version="seed"
    )
    with capture_calls() as events:
        result = await judge.judge("The article.", "The summary.")
    assert len(events) == len(checklist.sub_aspects) == 4  # one call per sub-aspect
    assert {e.tags["judge_protocol"] for e in events} == {"checkeval"}
    assert {e.tags["judge_sub_aspect"] for e in events} == set(checklist.sub_aspects)
    dim = result.dimensions["fluency"]
    assert (dim.n_yes, dim.n_no, dim.n_unparsed) == (2, 1, 1)
    assert dim.score == pytest.approx(2 / 3) and result.score == pytest.approx(2 / 3)
    assert dim.sub_aspect_scores == {
        "Formatting": 1.0,
        "Grammar": 0.0,
        "Completeness": None,
        "Readability": 1.0,
    }
    [unparsed] = [a for a in result.answers if a.answer is None]
    assert unparsed.sub_aspect == "Completeness" and unparsed.parse_error
    assert result.replies["fluency/Completeness"] == "I cannot tell."


async def test_several_dimensions_are_scored_separately_never_averaged() -> None:
    def reply(request: MockRequest) -> str:
        n = len(re.findall(r"^Q\d+: ", request.prompt.split("# Questions # \n")[1], re.M))
        word = "Yes" if "coherence - " in request.prompt else "No"
        return "\n".join(f"Q{i}: {word}" for i in range(1, n + 1))

    judge = CheckEvalJudge(
        get_model("mock/ce", outputs=reply), dimensions=["coherence", "relevance"], version="seed"
    )
    result = await judge.judge("a", "s")
    assert result.dimensions["coherence"].score == 1.0
    assert result.dimensions["relevance"].score == 0.0
    assert result.score is None and result.parse_error is None
    summary = summarize_judgments("checkeval", [result])
    assert summary.dimension_means == {"coherence": 1.0, "relevance": 0.0}
    assert summary.unparseable == 0 and summary.mean_score is None


async def test_nothing_parsed_gives_no_score() -> None:
    judge = CheckEvalJudge(
        get_model("mock/ce", outputs=["Looks good."], cycle=True),
        dimensions=["coherence"],
        version="seed",
    )
    result = await judge.judge("a", "s")
    assert result.score is None and result.dimensions["coherence"].score is None
    assert result.n_unparsed == 3 and result.parse_error
    assert summarize_judgments("checkeval", [result]).unparseable == 1
