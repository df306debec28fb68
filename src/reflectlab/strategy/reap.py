"""``reap``: Reflection, Explicit Problem Deconstruction and Advanced Prompting, in one prompt.

Lingo et al. 2024, "Enhancing LLM Problem Solving with REAP: Reflection, Explicit Problem
Deconstruction, and Advanced Prompting" (arXiv:2409.09415). Procedure: the authors' REAP
prompt, with the problem inserted in its ``<Problem>`` section at the end (their README's
usage), is answered in one call (role "draft", round 0). The prompt walks the model through
fifteen numbered steps: the literal and strict interpretation rules, a comprehensive feature
analysis, a sequential/mechanical process check, the key insight check, known and deduced
information, problem decomposition, a graph of thought, spatial and object analysis, Bayesian
thinking, the ethical check, multiple solution generation, the quickest and easiest solution,
a reflection, and the final output with a recommendation.

REAP's reflection happens *inside* one generation: there is no second call and no feedback
loop, so the run has one checkpoint (round 0) and compares with ``cot`` / ``direct`` at one
call each. No feedback kind: the model reflects on the query, nothing critiques an answer.

Source: :data:`REAP_PROMPT` is the authors' ``REAP_Prompt.md`` from
github.com/ryanlingo/REAP-LLM-Problem-Solving (commit c68a84e5484860efd7bb9bc2024e13096499ed2c,
CC0-1.0), word for word. Two mechanical normalisations: the file is a Google-Docs markdown
export whose characters are backslash-escaped (``\\*\\*``, ``\\-``), so one level of those
escapes is removed (the text as GitHub renders it, the ``**`` markers kept) and trailing
spaces are dropped; the two ``<Problem>`` markers at the end (doubly escaped in the file) are
written plainly and the problem goes on the line between them.

Deviations: the problem inserted is the task's own prompt for the sample, so the task's
answer-format instruction (e.g. "End with 'Answer: <number>'.") sits inside the
``<Problem>`` section, and the prompt still ends with REAP's own closing marker. The paper
ran the prompt zero-shot on the "Easy Problems That LLMs Get Wrong" questions; nothing else
about the call (system prompt, temperature) is prescribed by the repository.
"""

from __future__ import annotations

from reflectlab.strategy._context import StrategyContext
from reflectlab.strategy._primitives import Conversation, ask
from reflectlab.strategy._registry import StrategyFn, strategy

# The authors' REAP prompt, verbatim (see the module docstring for the source and the two
# whitespace/escape normalisations); ``{task}`` is their "<Problem>" slot.
REAP_PROMPT = (
    "# REAP: Problem Solving Method\n"
    "You are an AI assistant designed to tackle complex problems using a structured and "
    "creative approach. Let's work together to analyze the problem and discover innovative "
    "solutions.\n\n"
    "**0. Literal Interpretation Rule:**\n\n"
    "- Interpret every statement in the problem LITERALLY.\n"
    "- Do not assume any implications or consequences beyond what is explicitly stated.\n"
    "- Pay close attention to the exact wording, especially regarding directions, "
    "positions, relationships, and sequences between objects or entities.\n"
    "- For terms that refer to commonly understood concepts, identify the most "
    "straightforward interpretation.\n\n"
    "**1. Strict Interpretation Rule:**\n\n"
    "Before beginning any analysis, adhere to these crucial rules:\n"
    "- Stick ONLY to what is explicitly stated in the problem.\n"
    "- Do not make any assumptions or inferences beyond the exact wording.\n"
    "- If the problem doesn't provide enough information to draw a conclusion, state this "
    "explicitly.\n"
    "- Treat each piece of information as literal and precise. Do not extrapolate or "
    "interpret beyond what is directly stated.\n"
    "- If a causal relationship or outcome is not explicitly stated, do not assume one "
    "exists.\n\n"
    "**2. Comprehensive Feature Analysis:**\n\n"
    "* Carefully read the entire problem statement multiple times.\n"
    "* List out every single feature, detail, or piece of information provided in the "
    "problem statement. Include:\n"
    "  - All objects mentioned, quoting the exact words from the problem statement.\n"
    "  - All actors or entities involved, with direct quotes.\n"
    "  - All actions described, using the exact phrasing from the problem.\n"
    "  - **All directional, spatial, relational, and **sequential** phrases** that indicate "
    "the position, movement, order, or relationship between objects or entities, quoted "
    "directly.\n"
    "  - All stated conditions or constraints, quoted directly.\n"
    "  - Any numerical values or quantities mentioned, quoted directly.\n"
    "  - Any temporal information (time, sequence, duration), using the exact language from "
    "the problem.\n"
    "  - Any spatial information (location, direction, distance), with direct quotes.\n"
    "  - Any causal relationships mentioned, quoted verbatim.\n"
    "  - Any stated goals or objectives, using the exact phrasing.\n"
    "* For each feature, quote the exact wording from the problem statement.\n"
    "* Do not infer or assume any information not explicitly stated.\n"
    '* If a feature seems to imply something, note it as "Potential implication" but do '
    "not treat it as fact.\n"
    "* For each feature, briefly note its potential significance to the problem, but only "
    "based on what is explicitly stated.\n\n"
    "**3. Sequential and Mechanical Process Check:**\n\n"
    "* Explicitly identify and analyze any sequential, cyclical, or mechanical processes "
    "described in the problem.\n"
    "  - Identify any sequence of events, steps, or actions.\n"
    "  - Consider how these sequences influence the outcome or future steps.\n"
    "  - Specifically assess if the sequence implies a certain outcome.\n"
    "* **Key Questions to Ask:**\n"
    "  - Does the sequence of events or actions lock in a particular outcome?\n"
    "  - If the problem involves a mechanical process, how does each step or movement "
    "impact the overall system?\n"
    "  - Are there any steps or sequences that must logically follow one another?\n"
    "* Include these considerations in your analysis, ensuring that no critical sequence or "
    "mechanical step is overlooked.\n\n"
    "**4. Key Insight Check:**\n\n"
    "* Review the comprehensive list of features and the Sequential and Mechanical Process "
    "Check you've just created.\n"
    '* Look for a "key insight"—a crucial detail or combination of details that might '
    "immediately reveal the correct answer or significantly simplify the problem.\n"
    "* This key insight could be:\n"
    "  - A direct statement of the answer\n"
    "  - A crucial detail that makes the solution obvious\n"
    "  - A constraint that eliminates most potential solutions\n"
    "  - An unusual element that changes the nature of the problem\n"
    "  - A combination of features that, when considered together, lead to a clear "
    "conclusion\n"
    "* If you identify a potential key insight, explain it clearly and how it leads to an "
    "immediate answer or simplification.\n"
    "* If an immediate answer is found, state it confidently. If not, proceed with the "
    "detailed analysis.\n"
    "* Ensure any key insight is based solely on explicit information. Do not include "
    "potential implications or assumed outcomes.\n\n"
    "**5. Known and Deduced Information:**\n\n"
    "* Explicit Facts:\n"
    "  - List ONLY the exact quotes from the comprehensive feature list you created "
    "earlier.\n"
    "  - For each explicitly stated relationship or position in the problem, list it "
    "clearly, then state its logical reverse (if applicable) and any complementary "
    "relationships (if applicable).\n"
    "  - Do not paraphrase or summarize. Use quotation marks for each piece of information.\n"
    '  - Format: "[Exact quote]" - Brief explanation of its relevance (if needed)\n\n'
    "* Feature-Based Deduction:\n"
    "  - Only make deductions that are 100% certain based on the explicit wording of the "
    "problem.\n"
    "  - A valid deduction must be a logical certainty based on the given information, not "
    "just a likely outcome.\n"
    "  - Format: Deduction: [Your certain inference] - Logical Basis: [Explain why this "
    'must be true] - Based on: "[Exact quote 1]", "[Exact quote 2]", etc.\n'
    "  - If no certain deductions can be made, state this explicitly.\n\n"
    '* For each piece of information, ask yourself: "What does this literally mean, '
    'without any assumptions?"\n'
    "* Pay special attention to directional, relational, and **sequential** phrases. What "
    "do they literally describe?\n"
    "* If the problem asks a question, ensure your deductions directly address this "
    "question using only the given information.\n\n"
    "* IMPORTANT: Double-check that every piece of information in this section is either a "
    "direct quote or explicitly linked to direct quotes from the problem statement. If you "
    "cannot quote or directly link a piece of information to the original text, do not "
    "include it.\n\n"
    "**6. Problem Decomposition:**\n\n"
    "* Using ONLY the exact quotes from the Comprehensive Feature List and the Known and "
    "Deduced Information:\n"
    "  - Break down the problem into smaller, manageable parts.\n"
    "  - Identify key components and subcomponents of the problem.\n"
    "  - Describe any interactions between these components, using only the information "
    "explicitly stated or directly deduced from the problem statement.\n\n"
    "* For each component or interaction identified:\n"
    "  - Provide the exact quote(s) from the problem statement that support its inclusion.\n"
    "  - If it's based on a deduction, clearly state which exact quotes led to this "
    "deduction.\n\n"
    '* For each component or interaction, consider: "Is this explicitly stated, or am I '
    "making an assumption?\" If it's an assumption, do not include it.\n"
    '* For each component, consider: "How does this directly relate to the question being '
    'asked?"\n'
    "* If a component doesn't directly relate to the question, note this explicitly.\n\n"
    "* Avoid making any assumptions beyond what is directly supported by the exact wording "
    "of the problem and the explicitly deduced information.\n\n"
    "* Format your decomposition as follows:\n"
    "  Component/Subcomponent: [Description]\n"
    '  Supporting Quote(s): "[Exact quote(s) from problem statement]"\n'
    "  Deduction (if applicable): [Clear explanation of how this was deduced]\n"
    '  Based on: "[Relevant quote(s) for deduction]"\n\n'
    "* If the problem lacks sufficient information to make a complete decomposition, state "
    "this explicitly.\n\n"
    "* IMPORTANT: Double-check that every aspect of your problem decomposition is directly "
    "linked to exact quotes or explicit deductions from the Known and Deduced Information "
    "section. If you cannot provide this direct link, do not include that aspect in your "
    "decomposition.\n\n"
    "**7. Graph of Thought:**\n\n"
    "* **Objective:** Create a visual or textual representation of the problem's structure "
    "to explore possible solutions.\n"
    "* **Action:**\n"
    "    * **Identify Key Concepts:** List the main concepts or subproblems involved, based "
    "only on explicit information from the problem statement.\n"
    "    * **Establish Relationships:** Determine how these concepts are connected, using "
    "only explicitly stated information.\n"
    "    * **Construct the Graph:**\n"
    "        * **Visual:** If possible, draw a graph with nodes (concepts) and edges "
    "(relationships).\n"
    "        * **Textual:** If drawing is not possible, create a list of nodes and their "
    "connections.\n"
    "    * **Explore Pathways:** Follow different paths through the graph, considering only "
    "combinations of ideas explicitly mentioned in the problem.\n"
    "    * **Identify Solutions & Obstacles:** Use the graph to uncover potential solutions "
    "and foresee challenges, based solely on given information.\n"
    "* Only include nodes and edges that represent explicitly stated information or 100% "
    "certain deductions.\n"
    '* If a connection seems implied but is not explicitly stated, note it as "Potential '
    'connection" but do not base any conclusions on it.\n\n'
    "**8. Spatial and Object Analysis:**\n\n"
    "* **Objective:** Construct a detailed understanding of the spatial relationships and "
    "objects involved in the problem.\n"
    "* **Action:**\n"
    "    * **Identify Objects:** List all physical objects explicitly mentioned in the "
    "problem statement.\n"
    "    * **Spatial Relationships:** Describe how these objects are positioned relative to "
    "each other, using only stated information.\n"
    "    * **Movement and Dynamics:** If applicable, explain how objects move or interact "
    "over time, based on explicit statements.\n"
    "    * **Constraints:** Note any physical limitations or boundaries explicitly "
    "mentioned in the problem space.\n"
    "    * **Visualization:** Create a mental image or diagram of the problem setup, using "
    "only given information.\n"
    "    * **Object Properties:** List relevant properties of each object that are "
    "explicitly stated.\n"
    "    * **Spatial Implications:** Analyze how the spatial arrangement affects potential "
    "solutions or outcomes, based solely on given information.\n"
    "* Only describe spatial relationships and movements that are explicitly stated in the "
    "problem.\n"
    "* If the problem doesn't provide enough information for a complete spatial analysis, "
    "state this clearly.\n\n"
    "**9. Bayesian Thinking:**\n\n"
    "* Only update beliefs based on explicitly stated information in the problem.\n"
    "* If new information seems to be implied but is not explicitly stated, note it as "
    '"Potential implication" but do not use it to update beliefs.\n'
    "* Use Bayesian reasoning to refine your approach based on the latest evidence, but "
    "only using explicitly stated information.\n\n"
    "**10. Ethical Check and Decision-Making Under Uncertainty:**\n\n"
    "* **Objective:** Ensure decisions prioritize safety and ethical considerations, "
    "especially when facing uncertainty with severe potential risks.\n"
    "* **Action:**\n"
    "  - **Assess Known Information:** Review the explicit information provided and "
    "identify what is known and what remains uncertain.\n"
    "  - **Identify Risks:** Determine the severity of possible outcomes (e.g., risk of "
    "death, injury, or significant loss).\n"
    "  - **Probability Consideration:** If multiple options exist and the consequences are "
    "severe, consider the probability of each outcome.\n"
    "  - **Risk Aversion Principle:** When the information is insufficient to mitigate "
    "severe risks, prioritize options that minimize or avoid those risks.\n"
    "  - **Ethical and Safety Considerations:** In situations where one of the outcomes "
    "involves significant harm (such as death), recommend actions that avoid any decision "
    "that could lead to that outcome unless there is a way to reliably avoid the risk.\n"
    "  - **Decision Recommendation:** In cases of high uncertainty with severe potential "
    "consequences, the safest option, even if it leads to inaction, is often the best "
    "choice.\n\n"
    "**11. Multiple Solution Generation:**\n\n"
    "* **Integrative Approach:** Synthesize all the knowledge you've acquired from the "
    "previous steps, including feature analysis, problem decomposition, known and deduced "
    "information, graph of thought, and spatial and object analysis.\n"
    "* **Solution Exploration:** Brainstorm solutions that are directly supported by the "
    "explicit information in the problem statement. Use these insights collectively to "
    "generate potential solutions. Aim to generate at least three different solutions\n\n"
    "* For each solution, clearly state which explicit information from the problem "
    "statement supports it.\n"
    "* If a solution requires any assumptions beyond the given information, do not include "
    "it.\n"
    "* If there isn't enough information to generate multiple solutions, state this "
    "explicitly.\n"
    '* For each potential solution, ask: "Does the problem explicitly state any effect of '
    'this action?"\n'
    "* If no effect is explicitly stated for an action, note that the effect is unknown or "
    "not specified.\n\n"
    "**12. Quickest and Easiest Solution:**\n\n"
    "* Based ONLY on the explicit information given in the problem statement, what is the "
    "simplest & safest answer to the question asked?\n"
    "* If the problem doesn't explicitly state an effect or outcome, the answer should "
    "reflect this lack of stated effect.\n"
    "* Explain your reasoning, citing exact quotes from the problem statement.\n"
    "* Make sure the answer is correct based solely on the given information.\n"
    "* Barring some overwhelming reason explicitly stated in the problem, proceed with this "
    "solution.\n\n"
    "**13. Reflection:**\n\n"
    "* Review your solutions and identify any contradictions with known/deduced "
    "information.\n"
    "* Ensure your conclusions are logically sound and supported by evidence from the "
    "explicit problem statement.\n"
    "* Critically examine if any part of your analysis has gone beyond the explicit wording "
    "of the problem.\n"
    "* If you find any instances where assumptions or inferences were made, revise those "
    "parts to stick strictly to the given information.\n"
    "* If the problem lacks crucial information needed to draw conclusions, highlight this "
    "in your reflection.\n"
    "* Review the question asked in the problem. Does your analysis directly answer this "
    "question based solely on the information given?\n"
    "* If the problem doesn't explicitly state an effect or outcome related to the "
    "question, ensure your answer reflects this lack of stated effect.\n"
    "* If you believe mistakes are being made, note it in the final output then go back "
    "through the steps and reassess.\n\n"
    "**14. Final Output & Recommendation:**\n\n"
    "Present your analysis in this format:\n\n"
    '* Begin with a statement: #"REAP Results: :"\n'
    "* a. **Comprehensive Feature List** (with explicit quotes)\n"
    "* b. **Sequential and Mechanical Process Check**\n"
    "* c. **Key Insight Check Results**\n"
    "* d. **Rephrased Question:** (The core question in its simplest form)\n"
    "* e. **Known and Deduced Information**\n"
    "* f. **Problem Decomposition**\n"
    "* g. **Graph of Thought** (describe connections & insights)\n"
    "* h. **Spatial and Object Analysis**\n"
    "* i. **Bayesian Updates**\n"
    "* j. **Ethical Check and Decision-Making Under Uncertainty**\n"
    "* k. **Multiple Solutions**\n"
    "* l. **Quickest and Easiest Solution**\n"
    "* m. **Reflection**\n\n"
    "**Recommendation:**\n\n"
    "* Provide your final recommendation based on all considerations, using only the "
    "explicitly stated information and ensuring that the decision adheres to ethical and "
    "safety considerations.\n"
    "* Any uncertainties or areas where more information is needed should be explicitly "
    "mentioned.\n"
    "* If multiple interpretations are possible based on the given information, choose the "
    "simpler and safer one.\n"
    "* Ensure your recommendation directly answers the question asked in the problem while "
    "prioritizing safety and ethical considerations in situations involving significant "
    "risks.\n\n"
    "---\n"
    "<Problem>\n"
    "{task}\n"
    "<Problem>"
)


@strategy(
    paper="Lingo et al., Enhancing LLM Problem Solving with REAP: Reflection, Explicit Problem "
    "Deconstruction, and Advanced Prompting",
    year=2024,
    calls=lambda p: 1,
)
def reap() -> StrategyFn:
    """One structured prompt: reflect on the query, deconstruct it, solve it several ways."""

    async def run(ctx: StrategyContext) -> str:
        prompt = ctx.prompt("REAP_PROMPT", REAP_PROMPT).format(
            task=ctx.task.format_prompt(ctx.sample)
        )
        reply = await ask(ctx, Conversation.start(ctx, prompt=prompt), role="draft", round=0)
        ctx.checkpoint(reply, round=0)
        return reply

    return run
