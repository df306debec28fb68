"""The Alternative Annotator Test (alt-test): may an LLM replace the human annotators?

Calderon, Reichart and Dror, "The Alternative Annotator Test for LLM-as-a-Judge: How to
Statistically Justify Replacing Human Annotators with LLMs", ACL 2025 (arXiv:2501.10970);
reference code github.com/nitaytech/AltTest. Pure functions, no model calls.

Procedure (leave one annotator out at a time):

1. Keep instances with at least 2 human labels and an LLM label.
2. Alignment score S(pred, R) of a label against the other humans' labels R: ``accuracy`` =
   mean of ``pred == r``; ``neg_rmse`` = -sqrt(mean((pred - r)^2)) for numeric labels.
3. For each annotator j with at least ``min_instances`` (30) usable instances, on each of j's
   instances i: s_f = S(LLM_i, R_i), s_h = S(human_j_i, R_i), W_f = [s_f >= s_h],
   W_h = [s_h >= s_f] (a tie sets both), d_i = W_h - W_f.
4. One-sided one-sample t-test, H0: mean(d) >= epsilon vs H1: mean(d) < epsilon -> p_j.
5. Benjamini-Yekutieli at level q over all p_j (valid under any dependence between the tests):
   rank k of m sorted p-values has threshold (k / m) * q / (1 + 1/2 + ... + 1/m); reject every
   hypothesis up to the largest rank whose p-value is at or below its threshold.
6. Winning rate omega = rejected / annotators tested; the LLM passes if omega >= 0.5.
   Advantage probability rho = mean over tested annotators of mean(W_f).

Epsilon (the LLM's cost-benefit allowance) presets from the paper: expert 0.2, skilled 0.15,
crowd 0.1.

Example::

    result = alt_test(humans, llm, epsilon="skilled")
    print(result.winning_rate, result.passed)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from reflectlab.errors import ConfigError, InputError
from reflectlab.judge._base import FrozenResult, Label
from reflectlab.judge._jsonio import load_json

__all__ = [
    "EPSILON_PRESETS",
    "AltTestMetric",
    "AltTestResult",
    "AnnotatorOutcome",
    "EpsilonPreset",
    "SkippedAnnotator",
    "alt_test",
    "benjamini_yekutieli",
    "by_thresholds",
    "load_alt_test_inputs",
    "one_sided_t_pvalue",
]

AltTestMetric = Literal["accuracy", "neg_rmse"]
EpsilonPreset = Literal["expert", "skilled", "crowd"]
EPSILON_PRESETS: Mapping[str, float] = {"expert": 0.2, "skilled": 0.15, "crowd": 0.1}
"""The paper's rule of thumb for epsilon by kind of human annotator."""


class AnnotatorOutcome(FrozenResult):
    """One left-out annotator's test. ``advantage_rate`` = mean(W_f), ``human_rate`` = mean(W_h),
    ``mean_d`` = mean(W_h - W_f); ``by_rank`` / ``by_threshold`` show the BY step."""

    annotator: str
    n: int
    mean_d: float
    p_value: float
    rejected: bool
    advantage_rate: float
    human_rate: float
    by_rank: int
    by_threshold: float


class SkippedAnnotator(FrozenResult):
    """An annotator with fewer than ``min_instances`` usable instances (not tested)."""

    annotator: str
    n: int


class AltTestResult(FrozenResult):
    """Outcome of :func:`alt_test`. ``passed`` iff ``winning_rate >= 0.5``."""

    winning_rate: float
    advantage_probability: float
    passed: bool
    per_annotator: list[AnnotatorOutcome]
    skipped_annotators: list[SkippedAnnotator]
    epsilon: float
    q: float
    metric: AltTestMetric
    min_instances: int
    n_instances: int
    n_dropped_few_humans: int
    n_dropped_no_llm: int


def alt_test(
    humans: Mapping[str, Mapping[str, Label | None]],
    llm: Mapping[str, Label | None],
    *,
    epsilon: float | EpsilonPreset = 0.2,
    q: float = 0.05,
    metric: AltTestMetric = "accuracy",
    min_instances: int = 30,
) -> AltTestResult:
    """Run the alt-test of ``llm`` (``{instance: label}``) against ``humans``
    (``{annotator: {instance: label}}``). A ``None`` label means "not annotated".

    Raises :class:`ConfigError` for bad options, non-numeric labels with ``neg_rmse``, or when
    no annotator has ``min_instances`` usable instances (nothing can be tested).
    """
    eps = _resolve_epsilon(epsilon)
    if not 0.0 < q < 1.0:
        raise ConfigError(f"q must be in (0, 1), got {q}")
    if metric not in ("accuracy", "neg_rmse"):
        raise ConfigError(f"unknown metric {metric!r}; use 'accuracy' or 'neg_rmse'")
    if min_instances < 2:
        raise ConfigError(f"min_instances must be at least 2 for a t-test, got {min_instances}")
    labels = {a: {i: v for i, v in by_i.items() if v is not None} for a, by_i in humans.items()}
    llm_labels = {i: v for i, v in llm.items() if v is not None}
    if metric == "neg_rmse":
        _require_numeric(labels, llm_labels)

    annotators_of: dict[str, list[str]] = {}
    for annotator, by_instance in labels.items():
        for instance in by_instance:
            annotators_of.setdefault(instance, []).append(annotator)
    few = {i for i, annotators in annotators_of.items() if len(annotators) < 2}
    no_llm = {i for i in annotators_of if i not in few and i not in llm_labels}
    usable = set(annotators_of) - few - no_llm

    tested: list[tuple[str, int, float, float, float, float]] = []
    skipped: list[SkippedAnnotator] = []
    for annotator, by_instance in labels.items():
        instances = [i for i in by_instance if i in usable]
        if len(instances) < min_instances:
            skipped.append(SkippedAnnotator(annotator=str(annotator), n=len(instances)))
            continue
        w_f, w_h = [], []
        for i in instances:
            others = [labels[o][i] for o in annotators_of[i] if o != annotator]
            s_f = _score(metric, llm_labels[i], others)
            s_h = _score(metric, by_instance[i], others)
            w_f.append(1.0 if s_f >= s_h else 0.0)
            w_h.append(1.0 if s_h >= s_f else 0.0)
        d = [h - f for h, f in zip(w_h, w_f, strict=True)]
        tested.append(
            (
                str(annotator),
                len(d),
                float(np.mean(d)),
                one_sided_t_pvalue(d, eps),
                float(np.mean(w_f)),
                float(np.mean(w_h)),
            )
        )
    if not tested:
        counts = ", ".join(f"{s.annotator}: {s.n}" for s in skipped) or "no annotators"
        raise ConfigError(
            f"no annotator has at least {min_instances} usable instances ({counts}); the "
            "alt-test needs more annotated instances (or a lower min_instances)"
        )

    p_values = [t[3] for t in tested]
    rejected = benjamini_yekutieli(p_values, q)
    thresholds = by_thresholds(len(p_values), q)
    order = sorted(range(len(p_values)), key=lambda k: p_values[k])
    rank = {index: position + 1 for position, index in enumerate(order)}
    outcomes = [
        AnnotatorOutcome(
            annotator=name,
            n=n,
            mean_d=mean_d,
            p_value=p,
            rejected=rejected[k],
            advantage_rate=adv,
            human_rate=hum,
            by_rank=rank[k],
            by_threshold=thresholds[rank[k] - 1],
        )
        for k, (name, n, mean_d, p, adv, hum) in enumerate(tested)
    ]
    winning_rate = sum(rejected) / len(outcomes)
    return AltTestResult(
        winning_rate=winning_rate,
        advantage_probability=float(np.mean([o.advantage_rate for o in outcomes])),
        passed=winning_rate >= 0.5,
        per_annotator=outcomes,
        skipped_annotators=skipped,
        epsilon=eps,
        q=q,
        metric=metric,
        min_instances=min_instances,
        n_instances=len(usable),
        n_dropped_few_humans=len(few),
        n_dropped_no_llm=len(no_llm),
    )


def one_sided_t_pvalue(d: Sequence[float], epsilon: float) -> float:
    """p-value of the one-sample t-test of H0: mean(d) >= epsilon vs H1: mean(d) < epsilon.

    t = (mean(d) - epsilon) / (s / sqrt(n)) with the sample standard deviation s (ddof=1), and
    p = P(T_{n-1} <= t); this equals ``scipy.stats.ttest_1samp(d, epsilon,
    alternative="less").pvalue`` whenever s > 0.

    Zero variance (every d_i equal, e.g. the LLM and the annotator tie everywhere) is decided
    explicitly instead of returning scipy's NaN: t is then -inf when mean(d) < epsilon (p = 0,
    the evidence is unanimous) and +inf or undefined otherwise (p = 1, nothing to reject).
    """
    values = np.asarray(d, dtype=float)
    n = len(values)
    if n < 2:
        raise ConfigError(f"the t-test needs at least 2 values, got {n}")
    mean = float(values.mean())
    sd = float(values.std(ddof=1))
    if sd == 0.0:
        return 0.0 if mean < epsilon else 1.0
    t = (mean - epsilon) / (sd / math.sqrt(n))
    from scipy import stats  # imported here: scipy.stats costs ~1 s at start-up

    return float(stats.t.cdf(t, df=n - 1))


def by_thresholds(m: int, q: float = 0.05) -> list[float]:
    """Benjamini-Yekutieli thresholds for ranks 1..m: (k / m) * q / sum_{i=1..m} 1/i."""
    if m < 1:
        return []
    harmonic = sum(1.0 / i for i in range(1, m + 1))
    return [(k / m) * q / harmonic for k in range(1, m + 1)]


def benjamini_yekutieli(p_values: Sequence[float], q: float = 0.05) -> list[bool]:
    """Which hypotheses the Benjamini-Yekutieli (2001) step-up procedure rejects at FDR ``q``.

    Sort the p-values (ties keep input order); find the largest rank k with p_(k) <= its
    threshold from :func:`by_thresholds`; reject ranks 1..k. Returns one flag per input, in
    input order. Unlike Benjamini-Hochberg this is valid under arbitrary dependence.
    """
    m = len(p_values)
    order = sorted(range(m), key=lambda k: p_values[k])
    thresholds = by_thresholds(m, q)
    largest = 0
    for position, index in enumerate(order, start=1):
        if p_values[index] <= thresholds[position - 1]:
            largest = position
    rejected = [False] * m
    for index in order[:largest]:
        rejected[index] = True
    return rejected


def load_alt_test_inputs(
    humans_path: str | Path, llm_path: str | Path, *, llm_name: str | None = None
) -> tuple[dict[str, dict[str, Label | None]], dict[str, Label | None]]:
    """Read the alt-test's two JSON files (the reference repository's format).

    ``humans_path``: ``{annotator: {instance: label}}``. ``llm_path``: ``{instance: label}``,
    or ``{llm_name: {instance: label}}`` holding several LLMs, in which case ``llm_name``
    picks one (optional when there is only one). Labels are JSON scalars; ``null`` means not
    annotated. Malformed files raise :class:`InputError` naming the file and field.
    """
    raw_humans = load_json(humans_path)
    humans = _read_nested(raw_humans, humans_path, outer="annotator")
    if not humans:
        raise InputError("no annotators", path=str(humans_path))
    raw_llm = load_json(llm_path)
    if not isinstance(raw_llm, dict):
        raise InputError(
            f"expected a JSON object {{instance: label}}, got {type(raw_llm).__name__}",
            path=str(llm_path),
        )
    if raw_llm and all(isinstance(v, dict) for v in raw_llm.values()):
        models = _read_nested(raw_llm, llm_path, outer="LLM")
        if llm_name is None:
            if len(models) != 1:
                raise InputError(
                    f"the file holds {len(models)} LLMs ({', '.join(sorted(models))}); "
                    "choose one with llm_name",
                    path=str(llm_path),
                )
            llm_name = next(iter(models))
        if llm_name not in models:
            raise InputError(
                f"no LLM named {llm_name!r}; the file has {', '.join(sorted(models))}",
                path=str(llm_path),
            )
        return humans, models[llm_name]
    if llm_name is not None:
        raise InputError(
            "llm_name given but the file is a flat {instance: label} object", path=str(llm_path)
        )
    return humans, {str(i): _label(v, llm_path, field=str(i)) for i, v in raw_llm.items()}


def _read_nested(
    raw: object, path: str | Path, *, outer: str
) -> dict[str, dict[str, Label | None]]:
    if not isinstance(raw, dict):
        raise InputError(
            f"expected a JSON object {{{outer}: {{instance: label}}}}, got {type(raw).__name__}",
            path=str(path),
        )
    result: dict[str, dict[str, Label | None]] = {}
    for key, by_instance in raw.items():
        if not isinstance(by_instance, dict):
            raise InputError(
                f"{outer} {key!r}: expected an object {{instance: label}}, "
                f"got {type(by_instance).__name__}",
                path=str(path),
                field=str(key),
            )
        result[str(key)] = {
            str(i): _label(v, path, field=f"{key}.{i}") for i, v in by_instance.items()
        }
    return result


def _label(value: object, path: str | Path, *, field: str) -> Label | None:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise InputError(
        f"a label must be a string, number, boolean or null, got {type(value).__name__}",
        path=str(path),
        field=field,
    )


def _resolve_epsilon(epsilon: float | str) -> float:
    if isinstance(epsilon, str):
        if epsilon not in EPSILON_PRESETS:
            raise ConfigError(
                f"unknown epsilon preset {epsilon!r}; use one of {', '.join(EPSILON_PRESETS)} "
                "or a number"
            )
        return EPSILON_PRESETS[epsilon]
    if isinstance(epsilon, bool) or not 0.0 <= float(epsilon) < 1.0:
        raise ConfigError(f"epsilon must be a number in [0, 1), got {epsilon!r}")
    return float(epsilon)


def _score(metric: AltTestMetric, pred: Label, others: Sequence[Label]) -> float:
    if metric == "accuracy":
        return sum(pred == r for r in others) / len(others)
    return -math.sqrt(sum((float(pred) - float(r)) ** 2 for r in others) / len(others))


def _require_numeric(humans: Mapping[str, Mapping[str, Label]], llm: Mapping[str, Label]) -> None:
    def numeric(v: Label) -> bool:
        return isinstance(v, int | float) and not isinstance(v, bool)

    for annotator, by_instance in humans.items():
        for instance, value in by_instance.items():
            if not numeric(value):
                raise ConfigError(
                    f"metric 'neg_rmse' needs numeric labels; annotator {annotator!r} gave "
                    f"{value!r} on instance {instance!r}"
                )
    for instance, value in llm.items():
        if not numeric(value):
            raise ConfigError(
                f"metric 'neg_rmse' needs numeric labels; the LLM gave {value!r} on "
                f"instance {instance!r}"
            )
