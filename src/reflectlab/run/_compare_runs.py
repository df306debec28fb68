"""Two stored runs side by side: the same strategies on two models or two configurations.

Each strategy present in both runs is compared on the samples both ran, paired by sample id
(exact McNemar on the discordant pairs, paired bootstrap interval of the accuracy difference,
one Holm family across the strategies), and the samples whose outcome changed are listed:
right in A and wrong in B, and the reverse. A pair in which either run errored says nothing
about the answers, so it is left out and counted.

Example::

    from reflectlab.run import compare_runs
    result = compare_runs(store, "20260101-aaaa", "20260102-bbbb")
    for row in result.strategies:
        print(row.strategy, row.comparison.verdict if row.comparison else "no usable pairs")
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from reflectlab.analysis import Comparison, Outcome, compare_pairs
from reflectlab.errors import ConfigError
from reflectlab.run._summary import get_run_or_fail, outcome_from_result
from reflectlab.store import Store

__all__ = ["RunComparison", "StrategyRunComparison", "compare_runs"]


class StrategyRunComparison(BaseModel):
    """One strategy in run A against the same strategy in run B.

    ``comparison`` has B as its ``strategy`` and A as its ``baseline``, so ``diff`` is B's
    accuracy minus A's; it is ``None`` when every shared sample errored in one of the runs.
    """

    strategy: str
    n_shared: int
    n_paired: int
    errored_a: int = Field(description="shared samples that errored in run A")
    errored_b: int = Field(description="shared samples that errored in run B")
    only_in_a: int
    only_in_b: int
    accuracy_a: float | None
    accuracy_b: float | None
    right_in_a_wrong_in_b: list[str]
    wrong_in_a_right_in_b: list[str]
    oracle_assisted: bool
    comparison: Comparison | None


class RunComparison(BaseModel):
    """What :func:`compare_runs` returns (and ``reflectlab compare A B --json`` prints)."""

    run_a: str
    run_b: str
    model_a: str
    model_b: str
    task_a: str
    task_b: str
    same_task: bool
    strategies: list[StrategyRunComparison]
    strategies_only_in_a: list[str]
    strategies_only_in_b: list[str]


def _label(strategy: str, run_id: str) -> str:
    return f"{strategy} [{run_id}]"


def compare_runs(
    store: Store, run_a: str, run_b: str, *, seed: int = 0, alpha: float = 0.05
) -> RunComparison:
    """Compare every strategy the two runs share, paired by sample id (see the module).

    Raises :class:`~reflectlab.errors.ConfigError` when a run does not exist, when the runs
    are the same run, share no strategy, or share no sample id.
    """
    rec_a, rec_b = get_run_or_fail(store, run_a), get_run_or_fail(store, run_b)
    if rec_a.run_id == rec_b.run_id:
        raise ConfigError(
            f"both ids name run {rec_a.run_id}; to compare strategies within one run use "
            "`reflectlab compare RUN --baseline STRATEGY`"
        )
    by_run: list[dict[str, dict[str, Outcome]]] = []
    for rec in (rec_a, rec_b):
        groups: dict[str, dict[str, Outcome]] = {}
        for r in store.results(rec.run_id):
            groups.setdefault(r.strategy, {})[r.sample_id] = outcome_from_result(r)
        by_run.append(groups)
    a, b = by_run
    # Run A's own order: each strategy as configured, its compute-matched baselines after it.
    order = {name: i for i, name in enumerate(rec_a.strategies)}

    def position(name: str) -> tuple[int, int, str]:
        parent = next(iter(a[name].values())).baseline_of
        if parent is not None:
            return order.get(parent, len(order)), 1, name
        return order.get(name, len(order)), 0, name

    shared = sorted((s for s in a if s in b), key=position)
    if not shared:
        raise ConfigError(
            f"runs {rec_a.run_id} and {rec_b.run_id} share no strategy (A has "
            f"{', '.join(a) or 'no results'}; B has {', '.join(b) or 'no results'})"
        )
    ids_a = {sid for s in shared for sid in a[s]}
    ids_b = {sid for s in shared for sid in b[s]}
    if not ids_a & ids_b:
        raise ConfigError(
            f"runs {rec_a.run_id} and {rec_b.run_id} share no sample ids (tasks "
            f"{rec_a.task!r} and {rec_b.task!r}): nothing to pair"
        )
    outcomes: dict[str, list[Outcome]] = {}
    pairs: list[tuple[str, str]] = []
    for s in shared:
        outcomes[_label(s, rec_a.run_id)] = list(a[s].values())
        outcomes[_label(s, rec_b.run_id)] = list(b[s].values())
        if set(a[s]) & set(b[s]):
            pairs.append((_label(s, rec_b.run_id), _label(s, rec_a.run_id)))
    found = {
        c.baseline: c for c in compare_pairs(outcomes, pairs, seed=seed, alpha=alpha)
    }  # keyed by A's label: one comparison per strategy with usable pairs
    rows = []
    for s in shared:
        common = [sid for sid in a[s] if sid in b[s]]
        errored_a = sum(a[s][sid].error_kind is not None for sid in common)
        errored_b = sum(b[s][sid].error_kind is not None for sid in common)
        usable = [
            sid for sid in common if a[s][sid].error_kind is None and b[s][sid].error_kind is None
        ]
        comparison = found.get(_label(s, rec_a.run_id))
        rows.append(
            StrategyRunComparison(
                strategy=s,
                n_shared=len(common),
                n_paired=len(usable),
                errored_a=errored_a,
                errored_b=errored_b,
                only_in_a=len(a[s]) - len(common),
                only_in_b=len(b[s]) - len(common),
                accuracy_a=comparison.baseline_accuracy if comparison else None,
                accuracy_b=comparison.accuracy if comparison else None,
                right_in_a_wrong_in_b=[
                    sid for sid in usable if a[s][sid].final_correct and not b[s][sid].final_correct
                ],
                wrong_in_a_right_in_b=[
                    sid for sid in usable if b[s][sid].final_correct and not a[s][sid].final_correct
                ],
                oracle_assisted=any(o.uses_oracle for o in (*a[s].values(), *b[s].values())),
                comparison=comparison,
            )
        )
    return RunComparison(
        run_a=rec_a.run_id,
        run_b=rec_b.run_id,
        model_a=rec_a.model,
        model_b=rec_b.model,
        task_a=rec_a.task,
        task_b=rec_b.task,
        same_task=rec_a.task == rec_b.task
        and rec_a.config.get("task_options") == rec_b.config.get("task_options"),
        strategies=rows,
        strategies_only_in_a=[s for s in a if s not in b],
        strategies_only_in_b=[s for s in b if s not in a],
    )
