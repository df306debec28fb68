"""Agreement and detection metrics for judges and critics. Pure functions, no model calls.

Every function returns a frozen pydantic result whose ``model_dump()`` is JSON-ready, so the CLI
can print it with ``--json``. Undefined quantities (a precision with nothing flagged, a kappa
when chance agreement is total) are ``None``, never ``NaN``: NaN is not valid JSON and hides the
reason, which is given in ``note`` instead.

- :func:`accuracy` — fraction of predictions equal to the reference; ``None`` predictions
  (unparsable outputs) count as wrong and are reported in ``missing``. With no parsed
  prediction at all the accuracy is ``None``: nothing was measured, which is not "0 % right".
- :func:`cohen_kappa` — Cohen (1960), "A coefficient of agreement for nominal scales". Both
  raters' labels go through ONE shared label index built over the union of their labels. (A
  known bug elsewhere, LLMBar's ``evaluate.py``, maps the judge's ``"1"``/``"2"`` to ``1``/``0``
  while gold stays ``1``/``2``, so its ``kappa_*`` numbers are not kappa against gold.)
- :func:`krippendorff_alpha` — Krippendorff (2011), "Computing Krippendorff's alpha-reliability",
  via the ``krippendorff`` package; nominal, ordinal, interval or ratio data, missing allowed.
- :func:`spearman`, :func:`kendall` — rank correlations of scores (``scipy.stats``).
- :func:`critic_evaluation` — how well a critic detects wrong solutions (positive class = "the
  solution is wrong"): precision, recall, F1 and false-positive rate, with the counts.

Example::

    >>> cohen_kappa(["A", "B", "A", "A"], ["A", "B", "B", "A"]).kappa
    0.5
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Literal

import krippendorff as _krippendorff
import numpy as np

from reflectlab.errors import ConfigError
from reflectlab.judge._base import FrozenResult, Label, ratio

__all__ = [
    "AccuracyResult",
    "AlphaLevel",
    "AlphaResult",
    "CohenKappaResult",
    "CorrelationResult",
    "CriticEvaluation",
    "accuracy",
    "cohen_kappa",
    "critic_evaluation",
    "kendall",
    "krippendorff_alpha",
    "label_index",
    "spearman",
]

AlphaLevel = Literal["nominal", "ordinal", "interval", "ratio"]


class AccuracyResult(FrozenResult):
    """``accuracy = correct / n``; ``missing`` predictions were ``None`` and count as wrong.
    ``accuracy`` is ``None`` when every prediction is missing."""

    accuracy: float | None
    correct: int
    n: int
    missing: int


class CohenKappaResult(FrozenResult):
    """Cohen's kappa with everything needed to check it by hand.

    ``labels`` is the shared label index; ``confusion[i][j]`` counts items rater A labelled
    ``labels[i]`` and rater B labelled ``labels[j]``. ``kappa`` is ``None`` only when expected
    agreement is 1 (both raters used one and the same label throughout): kappa is then 0/0.
    """

    kappa: float | None
    observed_agreement: float
    expected_agreement: float
    n: int
    labels: list[Label]
    confusion: list[list[int]]
    note: str | None = None


class AlphaResult(FrozenResult):
    """Krippendorff's alpha; ``None`` (with ``note``) when every value is the same."""

    alpha: float | None
    level: AlphaLevel
    n_raters: int
    n_units: int
    n_values: int
    labels: list[Label]
    note: str | None = None


class CorrelationResult(FrozenResult):
    """A rank correlation; pairs with a ``None`` on either side were dropped (``n_dropped``)."""

    method: Literal["spearman", "kendall_b", "kendall_c"]
    statistic: float | None
    p_value: float | None
    n: int
    n_dropped: int
    note: str | None = None


class CriticEvaluation(FrozenResult):
    """A critic as a detector of wrong solutions. Positive = "the solution is wrong".

    ``tp`` wrong and flagged, ``fp`` correct but flagged, ``fn`` wrong and not flagged, ``tn``
    correct and not flagged. A ``None`` flag (the critic's verdict could not be parsed) counts
    as "not flagged" (the critic failed to detect) and is also counted in ``unparsed``. When no
    verdict parsed at all, every rate is ``None`` (with ``note``): a critic that never answered
    in the expected format has not been measured, and "recall 0, false-positive rate 0" would
    read as a result.
    """

    n: int
    n_wrong: int
    n_correct: int
    tp: int
    fp: int
    fn: int
    tn: int
    unparsed: int
    precision: float | None
    recall: float | None
    f1: float | None
    false_positive_rate: float | None
    accuracy: float | None
    note: str | None = None


def accuracy(predictions: Sequence[Label | None], references: Sequence[Label]) -> AccuracyResult:
    """Fraction of ``predictions[i] == references[i]``; ``None`` predictions count as wrong.

    >>> accuracy(["A", None, "B"], ["A", "A", "A"]).model_dump()
    {'accuracy': 0.3333333333333333, 'correct': 1, 'n': 3, 'missing': 1}
    """
    _same_length(predictions, references, "predictions", "references")
    if not references:
        raise ConfigError("accuracy needs at least one item")
    correct = sum(p is not None and p == r for p, r in zip(predictions, references, strict=True))
    missing = sum(p is None for p in predictions)
    return AccuracyResult(
        accuracy=None if missing == len(references) else correct / len(references),
        correct=correct,
        n=len(references),
        missing=missing,
    )


def label_index(*label_lists: Sequence[Label]) -> list[Label]:
    """One deterministic index over the union of all labels: numbers first, then strings.

    Raises :class:`ConfigError` when two labels differ only by type (``1`` and ``"1"``): they
    would silently never agree, which is exactly the mapping bug this index exists to avoid.
    """
    union: set[Label] = set()
    for labels in label_lists:
        for label in labels:
            if label is None:
                raise ConfigError(
                    "a label is None: map unparsable outputs to an explicit label first"
                )
            union.add(label)
    by_text: dict[str, set[type]] = {}
    for label in union:
        by_text.setdefault(str(label), set()).add(type(label))
    clashes = sorted(text for text, types in by_text.items() if len(types) > 1)
    if clashes:
        raise ConfigError(
            f"labels {clashes} appear with different types (e.g. 1 and '1'); normalise them"
        )
    return sorted(union, key=_label_sort_key)


def cohen_kappa(rater_a: Sequence[Label], rater_b: Sequence[Label]) -> CohenKappaResult:
    """Cohen's kappa between two raters over the same items (Cohen, 1960).

    kappa = (p_o - p_e) / (1 - p_e), with p_o the observed and p_e the chance agreement from
    the two raters' marginals over one shared label index (see :func:`label_index`). Computed
    from integer counts, so the degenerate case is detected exactly: when both raters used one
    and the same label for every item, p_e = 1 and kappa is 0/0; we return ``kappa=None`` with
    a note rather than 1.0 (there was no chance to disagree) or NaN (not JSON).
    """
    _same_length(rater_a, rater_b, "rater_a", "rater_b")
    n = len(rater_a)
    if n == 0:
        raise ConfigError("cohen_kappa needs at least one item")
    labels = label_index(rater_a, rater_b)
    position = {label: i for i, label in enumerate(labels)}
    confusion = [[0] * len(labels) for _ in labels]
    for a, b in zip(rater_a, rater_b, strict=True):
        confusion[position[a]][position[b]] += 1
    agree = sum(confusion[i][i] for i in range(len(labels)))
    rows = [sum(row) for row in confusion]
    cols = [sum(column) for column in zip(*confusion, strict=True)]
    chance = sum(r * c for r, c in zip(rows, cols, strict=True))  # = n^2 * p_e
    observed, expected = agree / n, chance / (n * n)
    if chance == n * n:
        return CohenKappaResult(
            kappa=None,
            observed_agreement=observed,
            expected_agreement=expected,
            n=n,
            labels=labels,
            confusion=confusion,
            note=f"both raters used only the label {labels[0]!r}: chance agreement is 1 and "
            "kappa is undefined (0/0)",
        )
    kappa = (n * agree - chance) / (n * n - chance)
    return CohenKappaResult(
        kappa=kappa,
        observed_agreement=observed,
        expected_agreement=expected,
        n=n,
        labels=labels,
        confusion=confusion,
    )


def krippendorff_alpha(
    ratings: Mapping[str, Mapping[str, Label | None]],
    *,
    level: AlphaLevel = "nominal",
    value_order: Sequence[Label] | None = None,
) -> AlphaResult:
    """Krippendorff's alpha over ``{rater: {unit: label}}``; absent or ``None`` = missing.

    ``nominal`` accepts any labels. ``interval`` and ``ratio`` need numbers. ``ordinal`` needs
    numbers, or ``value_order`` listing the labels from lowest to highest. Units rated by a
    single rater are not pairable and do not contribute (standard alpha). When every value is
    the same, expected disagreement is 0 and alpha is undefined: ``alpha=None`` with a note.
    """
    if level not in ("nominal", "ordinal", "interval", "ratio"):
        raise ConfigError(f"unknown level {level!r}; use nominal, ordinal, interval or ratio")
    raters = list(ratings)
    units = sorted({u for by_unit in ratings.values() for u in by_unit})
    values = [v for by_unit in ratings.values() for v in by_unit.values() if v is not None]
    if len(raters) < 2 or not values:
        raise ConfigError("krippendorff_alpha needs at least two raters and some ratings")
    labels = label_index(values)
    code = _alpha_codes(labels, level, value_order)
    matrix = np.full((len(raters), len(units)), np.nan)
    column = {u: j for j, u in enumerate(units)}
    for i, rater in enumerate(raters):
        for unit, value in ratings[rater].items():
            if value is not None:
                matrix[i, column[unit]] = code[value]
    pairable = int(np.sum(np.sum(~np.isnan(matrix), axis=0) >= 2))
    if pairable == 0:
        raise ConfigError("no unit was rated by two raters: alpha cannot be computed")
    note = None
    alpha: float | None = None
    if len(labels) == 1:
        note = f"every rating is {labels[0]!r}: expected disagreement is 0, alpha is undefined"
    else:
        domain = sorted(set(code.values()))
        alpha = float(
            _krippendorff.alpha(
                reliability_data=matrix, value_domain=domain, level_of_measurement=level
            )
        )
    return AlphaResult(
        alpha=alpha,
        level=level,
        n_raters=len(raters),
        n_units=len(units),
        n_values=len(values),
        labels=labels,
        note=note,
    )


def spearman(x: Sequence[float | None], y: Sequence[float | None]) -> CorrelationResult:
    """Spearman's rho (``scipy.stats.spearmanr``) over pairs where neither side is ``None``."""
    return _correlation("spearman", x, y)


def kendall(
    x: Sequence[float | None], y: Sequence[float | None], *, variant: Literal["b", "c"] = "b"
) -> CorrelationResult:
    """Kendall's tau-b (default, handles ties) or tau-c (``scipy.stats.kendalltau``)."""
    if variant not in ("b", "c"):
        raise ConfigError(f"unknown Kendall variant {variant!r}; use 'b' or 'c'")
    return _correlation("kendall_b" if variant == "b" else "kendall_c", x, y)


def critic_evaluation(
    is_correct: Sequence[bool], flagged: Sequence[bool | None]
) -> CriticEvaluation:
    """Score a critic that flags solutions as wrong against correctness labels.

    ``is_correct[i]``: the solution is right. ``flagged[i]``: the critic says it is wrong
    (``None``: its verdict was unparsable, counted as not flagged). Rates with a zero
    denominator are ``None``.

    >>> r = critic_evaluation([True, False, False, True], [False, True, False, True])
    >>> (r.tp, r.fp, r.fn, r.tn, r.precision, r.recall)
    (1, 1, 1, 1, 0.5, 0.5)
    """
    _same_length(is_correct, flagged, "is_correct", "flagged")
    if not is_correct:
        raise ConfigError("critic_evaluation needs at least one item")
    counts: Counter[tuple[bool, bool]] = Counter()
    for correct, flag in zip(is_correct, flagged, strict=True):
        counts[(bool(correct), flag is True)] += 1
    tp, fp = counts[(False, True)], counts[(True, True)]
    fn, tn = counts[(False, False)], counts[(True, False)]
    unparsed = sum(f is None for f in flagged)
    if unparsed == len(flagged):
        return CriticEvaluation(
            n=len(is_correct), n_wrong=tp + fn, n_correct=fp + tn, tp=tp, fp=fp, fn=fn, tn=tn,
            unparsed=unparsed, precision=None, recall=None, f1=None, false_positive_rate=None,
            accuracy=None, note=f"no critic verdict parsed ({unparsed} unparsed): nothing measured",
        )  # fmt: skip
    precision, recall = ratio(tp, tp + fp), ratio(tp, tp + fn)
    f1 = ratio(2 * tp, 2 * tp + fp + fn)
    return CriticEvaluation(
        n=len(is_correct),
        n_wrong=tp + fn,
        n_correct=fp + tn,
        tp=tp,
        fp=fp,
        fn=fn,
        tn=tn,
        unparsed=unparsed,
        precision=precision,
        recall=recall,
        f1=f1,
        false_positive_rate=ratio(fp, fp + tn),
        accuracy=(tp + tn) / len(is_correct),
    )


def _correlation(
    method: Literal["spearman", "kendall_b", "kendall_c"],
    x: Sequence[float | None],
    y: Sequence[float | None],
) -> CorrelationResult:
    _same_length(x, y, "x", "y")
    pairs = [
        (float(a), float(b)) for a, b in zip(x, y, strict=True) if a is not None and b is not None
    ]
    n, dropped = len(pairs), len(x) - len(pairs)
    if n < 2:
        raise ConfigError(f"{method} needs at least two complete pairs, got {n}")
    xs, ys = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
    if np.all(xs == xs[0]) or np.all(ys == ys[0]):
        return CorrelationResult(
            method=method,
            statistic=None,
            p_value=None,
            n=n,
            n_dropped=dropped,
            note="one side is constant: the correlation is undefined",
        )
    from scipy import stats  # imported here: scipy.stats costs ~1 s at start-up

    if method == "spearman":
        result = stats.spearmanr(xs, ys)
    else:
        result = stats.kendalltau(xs, ys, variant=method[-1])
    statistic, p_value = float(result.statistic), float(result.pvalue)
    return CorrelationResult(
        method=method,
        statistic=statistic,
        n=n,
        n_dropped=dropped,
        p_value=None if np.isnan(p_value) else p_value,
        note="too few pairs for a p-value" if np.isnan(p_value) else None,
    )


def _alpha_codes(
    labels: list[Label], level: AlphaLevel, value_order: Sequence[Label] | None
) -> dict[Label, float]:
    """Map each label to the number krippendorff sees (a code for nominal, the value else)."""
    if level == "nominal":
        return {label: float(i) for i, label in enumerate(labels)}
    if value_order is not None:
        if level != "ordinal":
            raise ConfigError("value_order only applies to level='ordinal'")
        order = {label: float(i) for i, label in enumerate(value_order)}
        unknown = [label for label in labels if label not in order]
        if unknown:
            raise ConfigError(f"labels {unknown!r} are not in value_order")
        return order
    non_numeric = [v for v in labels if isinstance(v, bool) or not isinstance(v, int | float)]
    if non_numeric:
        raise ConfigError(
            f"level={level!r} needs numeric labels (got {non_numeric[:3]!r}); for ordinal text "
            "labels pass value_order"
        )
    return {label: float(label) for label in labels}


def _label_sort_key(label: Label) -> tuple[int, float, str]:
    if isinstance(label, int | float) and not isinstance(label, bool):
        return (0, float(label), "")
    return (1, 0.0, str(label))


def _same_length(a: Sequence[object], b: Sequence[object], name_a: str, name_b: str) -> None:
    if len(a) != len(b):
        raise ConfigError(f"{name_a} has {len(a)} items but {name_b} has {len(b)}")
