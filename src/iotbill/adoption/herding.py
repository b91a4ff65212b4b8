"""Information cascades: people who copy the crowd instead of trusting their own signal.

The sequential-decision model of Bikhchandani, Hirshleifer and Welch (1992), as
told in Easley and Kleinberg, *Networks, Crowds, and Markets*, chapter 16. An
option is good with probability ``prior``. People decide in turn to accept or
reject it; each receives a private signal, high or low, that matches the truth
with probability ``signal_accuracy`` (``q``), and sees every earlier decision,
not the earlier signals. Each accepts when the posterior that the option is good
exceeds 1/2, rejects below, and at exactly 1/2 applies a :class:`TieRule`.

A *cascade* has started when the next person's decision no longer depends on her
signal. From then on decisions reveal nothing, so the cascade never ends. It is
*correct* when everyone accepts a good option or rejects a bad one.

Everything exact is computed in :class:`fractions.Fraction`. The public state is
the public belief: the posterior that an outsider who sees only the decisions
holds. With the book's prior 1/2 and tie rule, it is a function of the difference
between the inferred counts of high and low signals, and a cascade starts when
that difference reaches +2 or -2; the general computation below follows the
belief itself, so other priors and tie rules (including a coin flip that makes a
decision only partly revealing) come out right too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

import numpy as np

from iotbill.domain.errors import InvalidInput, ProblemCollector

HALF = Fraction(1, 2)
MAX_STATES = 64
"""The exact computation follows at most this many public beliefs (five in the book's case)."""


class TieRule(StrEnum):
    """What a person does when her posterior is exactly 1/2."""

    OWN_SIGNAL = "own-signal"
    """Follow her own signal (the book's rule)."""
    COIN_FLIP = "coin-flip"
    """Accept with probability 1/2 (the rule of Bikhchandani, Hirshleifer and Welch)."""
    ACCEPT = "accept"
    """Accept."""


@dataclass(frozen=True, slots=True)
class CascadeOdds:
    """Exact probabilities that, after ``people`` decisions, a cascade has or has not started."""

    people: int
    no_cascade: Fraction
    correct_cascade: Fraction
    wrong_cascade: Fraction


@dataclass(frozen=True, slots=True)
class SimulatedCascades:
    """Frequencies of the three outcomes over ``runs`` simulated sequences."""

    people: int
    runs: int
    no_cascade: float
    correct_cascade: float
    wrong_cascade: float


@dataclass(frozen=True, slots=True)
class _Chain:
    """The public-belief chain for ``people`` steps: state 0 is the prior belief.

    ``accept_high[s]`` and ``accept_low[s]`` are the probabilities that a person
    in state ``s`` accepts with a high or a low signal; ``on_accept[s]`` and
    ``on_reject[s]`` the next states. A cascade state leads to itself.
    """

    beliefs: list[Fraction]
    accept_high: list[Fraction]
    accept_low: list[Fraction]
    on_accept: list[int]
    on_reject: list[int]


@dataclass(frozen=True, slots=True)
class Herding:
    """The Bikhchandani–Hirshleifer–Welch model with exact arithmetic.

    Parameters
    ----------
    signal_accuracy
        Probability ``q`` that a signal matches the truth; ``1/2 < q < 1``.
    prior
        Probability that the option is good; ``0 < prior < 1``.
    tie
        Decision at a posterior of exactly 1/2.

    References
    ----------
    S. Bikhchandani, D. Hirshleifer, I. Welch, "A theory of fads, fashion, custom,
    and cultural change as informational cascades", J. Political Economy 100 (1992).
    D. Easley, J. Kleinberg, *Networks, Crowds, and Markets* (2010), chapter 16.

    Examples
    --------
    >>> model = Herding(Fraction(2, 3))
    >>> model.posterior(highs=2, lows=1)
    Fraction(2, 3)
    >>> odds = model.cascade_odds(2)
    >>> odds.no_cascade, odds.correct_cascade, odds.wrong_cascade
    (Fraction(4, 9), Fraction(4, 9), Fraction(1, 9))
    """

    signal_accuracy: Fraction
    prior: Fraction = HALF
    tie: TieRule = TieRule.OWN_SIGNAL

    def __post_init__(self) -> None:
        problems = ProblemCollector()
        if not HALF < self.signal_accuracy < 1:
            problems.add("signal_accuracy", f"must be in (1/2, 1), got {self.signal_accuracy}")
        if not 0 < self.prior < 1:
            problems.add("prior", f"must be in (0, 1), got {self.prior}")
        problems.raise_if_any()

    def posterior(self, highs: int, lows: int) -> Fraction:
        """Probability that the option is good given ``highs`` high and ``lows`` low signals."""
        if highs < 0 or lows < 0:
            raise InvalidInput("signal counts must be non-negative")
        q = self.signal_accuracy
        good = self.prior * q**highs * (1 - q) ** lows
        bad = (1 - self.prior) * (1 - q) ** highs * q**lows
        return good / (good + bad)

    def accept_probability(self, posterior: Fraction, high_signal: bool) -> Fraction:
        """The decision rule: probability of accepting at ``posterior`` (0, 1/2 or 1)."""
        if posterior != HALF:
            return Fraction(int(posterior > HALF))
        if self.tie is TieRule.OWN_SIGNAL:
            return Fraction(int(high_signal))
        return HALF if self.tie is TieRule.COIN_FLIP else Fraction(1)

    def _with_signal(self, belief: Fraction, high_signal: bool) -> Fraction:
        """Posterior of a person who holds public ``belief`` and receives one signal."""
        q = self.signal_accuracy
        good = belief * (q if high_signal else 1 - q)
        return good / (good + (1 - belief) * (1 - q if high_signal else q))

    def _chain(self, people: int) -> _Chain:
        """Every public belief reachable in ``people`` decisions, with its decision table.

        States are found breadth first; each is expanded once, when first reached, so
        a state first reached after the last decision keeps successors ``-1``.
        """
        q = self.signal_accuracy
        chain = _Chain([], [], [], [], [])
        index: dict[Fraction, int] = {}

        def state_of(belief: Fraction, discovered: list[int]) -> int:
            if belief not in index:
                index[belief] = len(chain.beliefs)
                discovered.append(index[belief])
                chain.beliefs.append(belief)
                for high_signal, table in ((True, chain.accept_high), (False, chain.accept_low)):
                    posterior = self._with_signal(belief, high_signal)
                    table.append(self.accept_probability(posterior, high_signal))
                chain.on_accept.append(-1)
                chain.on_reject.append(-1)
            return index[belief]

        frontier: list[int] = []
        state_of(self.prior, frontier)
        for _ in range(people):
            discovered: list[int] = []
            for state in frontier:
                belief, high, low = (
                    chain.beliefs[state],
                    chain.accept_high[state],
                    chain.accept_low[state],
                )
                if high == low:
                    chain.on_accept[state] = chain.on_reject[state] = state
                    continue
                accept_good, accept_bad = q * high + (1 - q) * low, (1 - q) * high + q * low
                for good, bad, successors in (
                    (belief * accept_good, (1 - belief) * accept_bad, chain.on_accept),
                    (belief * (1 - accept_good), (1 - belief) * (1 - accept_bad), chain.on_reject),
                ):
                    successors[state] = state_of(good / (good + bad), discovered)
            frontier = discovered
        return chain

    def cascade_odds(self, people: int) -> CascadeOdds:
        """Exact probabilities that after ``people`` decisions no, a correct or a wrong cascade
        has started, averaged over the true state drawn from the prior.

        The public belief takes a handful of values (five for the book's prior and
        tie rule: count differences -2 to 2), so the decisions are a Markov chain on
        those states, one transition matrix per true state. The odds after
        ``people`` decisions are the prior's row times the matrix to the power
        ``people``, computed by repeated squaring over integers (the matrix times
        the common denominator ``d`` of its entries; the result divided by
        ``d ** people`` once, at the end). Cost: ``O(states**3 * log(people))``
        multiplications of integers of up to ``people * log2(d)`` bits, so 100,000
        people take about a second, exactly. Should the public belief take more than
        :data:`MAX_STATES` values (not so for any prior and tie rule tried), the
        exact odds are refused beyond that many people, pointing to ``--simulate``.
        """
        if people < 0:
            raise InvalidInput.at("people", f"must be non-negative, got {people}")
        q = self.signal_accuracy
        chain = self._chain(min(people, MAX_STATES))
        size = len(chain.beliefs)
        if people > MAX_STATES and -1 in (*chain.on_accept, *chain.on_reject):
            raise InvalidInput.at(
                "people",
                f"under this prior and tie rule the public belief takes more than {MAX_STATES}"
                f" values, so exact odds are computed for at most {MAX_STATES} people, not"
                f" {people}: estimate them with --simulate",
            )
        worlds: list[list[list[Fraction]]] = []
        for truth_good in (True, False):
            matrix = [[Fraction(0)] * size for _ in range(size)]
            for state in range(size):
                high, low = chain.accept_high[state], chain.accept_low[state]
                accept = q * high + (1 - q) * low if truth_good else (1 - q) * high + q * low
                on_accept, on_reject = chain.on_accept[state], chain.on_reject[state]
                if on_accept < 0 or on_reject < 0:  # first reached by the last decision
                    matrix[state][state] = Fraction(1)
                    continue
                matrix[state][on_accept] += accept
                matrix[state][on_reject] += 1 - accept
            worlds.append(matrix)
        reach_good = _row_times_power(worlds[0], people)
        reach_bad = _row_times_power(worlds[1], people)
        none = correct = wrong = Fraction(0)
        for state in range(size):
            good, bad = self.prior * reach_good[state], (1 - self.prior) * reach_bad[state]
            high, low = chain.accept_high[state], chain.accept_low[state]
            if high != low:
                none += good + bad
            elif high == 1:
                correct, wrong = correct + good, wrong + bad
            else:
                correct, wrong = correct + bad, wrong + good
        return CascadeOdds(people, none, correct, wrong)

    def simulate(self, people: int, runs: int, rng: np.random.Generator) -> SimulatedCascades:
        """Simulate ``runs`` independent sequences of ``people`` decisions, vectorised over runs.

        Each run draws the true state from the prior, then each person's signal and a
        uniform number that settles a coin-flip tie. Decisions follow the exact decision
        table of :meth:`cascade_odds`, so the frequencies estimate its probabilities.
        """
        if people < 0 or runs < 1:
            raise InvalidInput("people must be non-negative and runs positive")
        chain = self._chain(people)
        accept_high = np.array([float(p) for p in chain.accept_high])
        accept_low = np.array([float(p) for p in chain.accept_low])
        on_accept, on_reject = np.array(chain.on_accept), np.array(chain.on_reject)
        good = rng.random(runs) < float(self.prior)
        state = np.zeros(runs, dtype=np.int64)
        for _ in range(people):
            high_signal = (rng.random(runs) < float(self.signal_accuracy)) == good
            threshold = np.where(high_signal, accept_high[state], accept_low[state])
            accepted = rng.random(runs) < threshold
            state = np.where(accepted, on_accept[state], on_reject[state])
        cascade = accept_high[state] == accept_low[state]
        correct = cascade & ((accept_high[state] == 1) == good)
        return SimulatedCascades(
            people,
            runs,
            no_cascade=float(np.mean(~cascade)),
            correct_cascade=float(np.mean(correct)),
            wrong_cascade=float(np.mean(cascade & ~correct)),
        )


def _row_times_power(matrix: list[list[Fraction]], power: int) -> list[Fraction]:
    """The first row of ``matrix ** power``, exactly: ``e_0 M^n`` by repeated squaring over
    the integers ``d M`` (``d`` the common denominator), divided by ``d ** n`` at the end."""
    size = len(matrix)
    denominator = math.lcm(*(entry.denominator for row in matrix for entry in row))
    scaled = [[int(entry * denominator) for entry in row] for row in matrix]
    row = [int(index == 0) for index in range(size)]
    remaining = power
    while remaining:
        if remaining & 1:
            row = [sum(row[k] * scaled[k][j] for k in range(size)) for j in range(size)]
        remaining >>= 1
        if remaining:
            scaled = [
                [sum(scaled[i][k] * scaled[k][j] for k in range(size)) for j in range(size)]
                for i in range(size)
            ]
    total = denominator**power
    return [Fraction(value, total) for value in row]
