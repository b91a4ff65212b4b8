"""Information cascades: exact odds against brute force, closed forms and Monte Carlo."""

from __future__ import annotations

import itertools
from fractions import Fraction
from functools import cache

import numpy as np
import pytest

from iotbill.adoption.herding import CascadeOdds, Herding, TieRule
from iotbill.domain.errors import InvalidInput

F = Fraction
HALF = F(1, 2)


def brute_force_odds(model: Herding, people: int) -> CascadeOdds:
    """Enumerate every signal sequence for each true state, following each person's decision.

    A person's posterior is computed afresh from the likelihood of the exact history of
    decisions she saw (a sum over the earlier people's possible signals), never from a
    summary of it, so this shares nothing with the public-belief chain under test.
    """
    q, prior = model.signal_accuracy, model.prior

    def signal_probability(high: bool, good: bool) -> Fraction:
        return q if high == good else 1 - q

    @cache
    def history_likelihood(history: tuple[bool, ...], good: bool) -> Fraction:
        if not history:
            return F(1)
        earlier, accepted = history[:-1], history[-1]
        step = sum(
            (
                signal_probability(high, good)
                * (accept_chance(earlier, high) if accepted else 1 - accept_chance(earlier, high))
                for high in (True, False)
            ),
            F(0),
        )
        return history_likelihood(earlier, good) * step

    @cache
    def accept_chance(history: tuple[bool, ...], high: bool) -> Fraction:
        good = prior * history_likelihood(history, True) * signal_probability(high, True)
        bad = (1 - prior) * history_likelihood(history, False) * signal_probability(high, False)
        posterior = good / (good + bad)
        if posterior != HALF:
            return F(int(posterior > HALF))
        return {TieRule.OWN_SIGNAL: F(int(high)), TieRule.COIN_FLIP: HALF, TieRule.ACCEPT: F(1)}[
            model.tie
        ]

    outcome = {"none": F(0), "correct": F(0), "wrong": F(0)}
    for good in (True, False):
        for signals in itertools.product((True, False), repeat=people):
            weight = prior if good else 1 - prior
            for high in signals:
                weight *= signal_probability(high, good)
            histories: dict[tuple[bool, ...], Fraction] = {(): weight}
            for high in signals:
                following: dict[tuple[bool, ...], Fraction] = {}
                for history, chance in histories.items():
                    accept = accept_chance(history, high)
                    for decision, share in ((True, accept), (False, 1 - accept)):
                        if share:
                            key = (*history, decision)
                            following[key] = following.get(key, F(0)) + chance * share
                histories = following
            for history, chance in histories.items():
                with_high, with_low = accept_chance(history, True), accept_chance(history, False)
                if with_high != with_low:
                    outcome["none"] += chance
                elif (with_high == 1) == good:
                    outcome["correct"] += chance
                else:
                    outcome["wrong"] += chance
    return CascadeOdds(people, outcome["none"], outcome["correct"], outcome["wrong"])


@pytest.mark.parametrize("tie", list(TieRule))
@pytest.mark.parametrize(
    ("accuracy", "prior"), [(F(2, 3), HALF), (F(3, 5), F(2, 5)), (F(4, 5), F(7, 10))]
)
def test_exact_odds_match_brute_force(tie: TieRule, accuracy: Fraction, prior: Fraction) -> None:
    model = Herding(accuracy, prior, tie)
    for people in range(8):
        assert model.cascade_odds(people) == brute_force_odds(model, people)


def test_brute_force_at_eight_people() -> None:
    model = Herding(F(3, 4), F(11, 20), TieRule.COIN_FLIP)
    assert model.cascade_odds(8) == brute_force_odds(model, 8)


@pytest.mark.parametrize("pairs", [1, 2, 5, 12])
def test_no_cascade_closed_forms(pairs: int) -> None:
    """Book rule: each pair must disagree, 2q(1-q); coin flip at ties: q(1-q) (BHW 1992)."""
    q = F(7, 10)
    own_signal = Herding(q).cascade_odds(2 * pairs)
    coin_flip = Herding(q, tie=TieRule.COIN_FLIP).cascade_odds(2 * pairs)
    assert own_signal.no_cascade == (2 * q * (1 - q)) ** pairs
    assert coin_flip.no_cascade == (q * (1 - q)) ** pairs
    assert Herding(q).cascade_odds(2 * pairs + 1).no_cascade == own_signal.no_cascade


def test_book_cascade_starts_when_the_difference_reaches_two() -> None:
    """After two accepts the third person accepts even with a low signal; after one, not."""
    model = Herding(F(2, 3))
    assert model.posterior(highs=2, lows=0) == F(4, 5)
    assert model.accept_probability(model.posterior(highs=2, lows=1), high_signal=False) == 1
    assert model.accept_probability(model.posterior(highs=1, lows=1), high_signal=False) == 0
    odds = model.cascade_odds(2)
    assert (odds.no_cascade, odds.correct_cascade, odds.wrong_cascade) == (
        F(4, 9),
        F(4, 9),
        F(1, 9),
    )


def test_posterior_is_exact_bayes() -> None:
    model = Herding(F(3, 5), F(1, 3))
    good = F(1, 3) * F(3, 5) ** 4 * F(2, 5) ** 2
    bad = F(2, 3) * F(2, 5) ** 4 * F(3, 5) ** 2
    assert model.posterior(4, 2) == good / (good + bad)
    assert model.posterior(0, 0) == F(1, 3)
    with pytest.raises(InvalidInput):
        model.posterior(-1, 0)


@pytest.mark.parametrize(
    ("tie", "high", "low"),
    [(TieRule.OWN_SIGNAL, 1, 0), (TieRule.COIN_FLIP, HALF, HALF), (TieRule.ACCEPT, 1, 1)],
)
def test_tie_rules_apply_only_at_exactly_one_half(tie: TieRule, high: object, low: object) -> None:
    model = Herding(F(2, 3), tie=tie)
    assert model.accept_probability(HALF, high_signal=True) == high
    assert model.accept_probability(HALF, high_signal=False) == low
    nearly = HALF + F(1, 10**30)
    assert model.accept_probability(nearly, high_signal=False) == 1
    assert model.accept_probability(HALF - F(1, 10**30), high_signal=True) == 0


def test_a_strong_prior_starts_a_cascade_before_anyone_decides() -> None:
    odds = Herding(F(3, 5), F(9, 10)).cascade_odds(0)
    assert (odds.no_cascade, odds.correct_cascade, odds.wrong_cascade) == (F(0), F(9, 10), F(1, 10))


def test_invalid_parameters_are_all_reported() -> None:
    with pytest.raises(InvalidInput) as raised:
        Herding(F(1, 2), F(1))
    assert [p.location for p in raised.value.problems] == ["signal_accuracy", "prior"]
    with pytest.raises(InvalidInput, match="people"):
        Herding(F(2, 3)).cascade_odds(-1)


@pytest.mark.parametrize("tie", list(TieRule))
def test_monte_carlo_agrees_within_five_standard_errors(tie: TieRule) -> None:
    model = Herding(F(3, 5), F(2, 5), tie)
    runs = 40_000
    exact = model.cascade_odds(7)
    simulated = model.simulate(7, runs, np.random.default_rng(20240601))
    for probability, frequency in (
        (exact.no_cascade, simulated.no_cascade),
        (exact.correct_cascade, simulated.correct_cascade),
        (exact.wrong_cascade, simulated.wrong_cascade),
    ):
        error = (float(probability) * (1 - float(probability)) / runs) ** 0.5
        assert abs(frequency - float(probability)) <= 5 * error


def test_simulation_is_reproducible_from_the_seed() -> None:
    model = Herding(F(2, 3), tie=TieRule.COIN_FLIP)
    first = model.simulate(9, 500, np.random.default_rng(3))
    assert first == model.simulate(9, 500, np.random.default_rng(3))
    assert first != model.simulate(9, 500, np.random.default_rng(4))


def _step_by_step(model: Herding, people: int) -> tuple[Fraction, Fraction, Fraction]:
    """The odds by walking the public-belief chain one decision at a time: the
    reference the matrix power must equal."""
    q = model.signal_accuracy
    chain = model._chain(people)
    reach = {0: (model.prior, 1 - model.prior)}
    for _ in range(people):
        following: dict[int, tuple[Fraction, Fraction]] = {}
        for state, (good, bad) in reach.items():
            high, low = chain.accept_high[state], chain.accept_low[state]
            accept_good, accept_bad = q * high + (1 - q) * low, (1 - q) * high + q * low
            for successor, share_good, share_bad in (
                (chain.on_accept[state], accept_good, accept_bad),
                (chain.on_reject[state], 1 - accept_good, 1 - accept_bad),
            ):
                was = following.get(successor, (Fraction(0), Fraction(0)))
                following[successor] = (was[0] + good * share_good, was[1] + bad * share_bad)
        reach = following
    none = correct = wrong = Fraction(0)
    for state, (good, bad) in reach.items():
        high, low = chain.accept_high[state], chain.accept_low[state]
        if high != low:
            none += good + bad
        elif high == 1:
            correct, wrong = correct + good, wrong + bad
        else:
            correct, wrong = correct + bad, wrong + good
    return none, correct, wrong


@pytest.mark.parametrize("tie", list(TieRule))
@pytest.mark.parametrize("prior", [Fraction(1, 2), Fraction(1, 3)])
def test_the_matrix_power_equals_the_decision_by_decision_walk(
    tie: TieRule, prior: Fraction
) -> None:
    model = Herding(Fraction(7, 10), prior, tie)
    for people in (0, 1, 2, 3, 7, 20, 33):
        odds = model.cascade_odds(people)
        assert (odds.no_cascade, odds.correct_cascade, odds.wrong_cascade) == _step_by_step(
            model, people
        )


def test_a_hundred_thousand_people_exactly() -> None:
    # Book's rule, prior 1/2: a pair of people leaves no cascade only when their signals
    # differ (probability 2q(1 - q) = 4/9 at q = 2/3), so after 2k people (4/9)^k.
    odds = Herding(Fraction(2, 3)).cascade_odds(100_000)

    assert odds.no_cascade == Fraction(4, 9) ** 50_000
    assert odds.no_cascade + odds.correct_cascade + odds.wrong_cascade == 1
    assert abs(float(odds.correct_cascade) - 0.8) < 1e-12  # q^2 / (q^2 + (1 - q)^2) = 4/5
