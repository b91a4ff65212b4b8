"""Kleinberg's lattice and greedy decentralised search."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import chi2

from iotbill.adoption.navigation import (
    KleinbergLattice,
    greedy_search_steps,
    kleinberg_lattice,
    mean_delivery_time,
)
from iotbill.domain.errors import InvalidInput


def grid_distances(side: int) -> np.ndarray:
    row, col = np.divmod(np.arange(side * side), side)
    return np.abs(row[:, None] - row[None]) + np.abs(col[:, None] - col[None])


# --- the lattice -------------------------------------------------------------------------


@pytest.mark.parametrize("exponent", [0.0, 1.5, 3.0])
def test_contacts_follow_the_inverse_power_law_exactly_border_included(exponent: float) -> None:
    side, lattices = 5, 3000
    rng = np.random.default_rng(11)
    counts = np.zeros((side * side, side * side))
    for _ in range(lattices):
        contacts = kleinberg_lattice(side, exponent, rng).contacts
        counts[np.arange(side * side), contacts] += 1
    distance = grid_distances(side)
    weight = np.where(distance > 0, np.maximum(distance, 1) ** -exponent, 0.0)
    expected = lattices * weight / weight.sum(axis=1, keepdims=True)
    assert counts[distance == 0].sum() == 0  # never oneself
    cells = distance > 0
    statistic = ((counts[cells] - expected[cells]) ** 2 / expected[cells]).sum()
    freedom = cells.sum() - side * side
    assert statistic < chi2.ppf(0.999, freedom)
    # the border shapes the law: a corner has more far nodes than the centre, so its
    # contacts are farther on average
    corner, centre = 0, side * side // 2
    assert np.average(distance[corner], weights=counts[corner]) > np.average(
        distance[centre], weights=counts[centre]
    )


def test_the_same_seed_gives_the_same_lattice() -> None:
    first = kleinberg_lattice(50, 2.0, np.random.default_rng(1)).contacts
    assert np.array_equal(first, kleinberg_lattice(50, 2.0, np.random.default_rng(1)).contacts)
    assert not np.array_equal(first, kleinberg_lattice(50, 2.0, np.random.default_rng(2)).contacts)


def test_the_lattice_graph_has_grid_links_and_contacts_once_each() -> None:
    # 3 x 3 grid, 12 grid links. Contacts 1->2, 3->4, 4->1 and 7->8 repeat grid links and
    # 8->0 repeats 0->8, so only 0-8, 2-6, 5-0 and 6-5 are new.
    contacts = np.array([8, 2, 6, 4, 1, 0, 5, 8, 0])
    graph = KleinbergLattice(3, 2.0, contacts).graph()
    assert graph.edge_count == 12 + 4
    assert {(0, 8), (2, 6), (0, 5), (5, 6)} <= {
        (int(u), int(v)) for u, v in zip(*graph.adjacency.nonzero(), strict=True) if u < v
    }


@pytest.mark.parametrize(
    ("side", "exponent", "flag"),
    [(1, 2.0, "side"), (0, 2.0, "side"), (10, -1.0, "exponent"), (10, math.nan, "exponent")],
)
def test_bad_lattice_parameters_name_the_parameter(side: int, exponent: float, flag: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        kleinberg_lattice(side, exponent, np.random.default_rng(0))
    assert raised.value.problems[0].location == flag


# --- greedy search, exactly --------------------------------------------------------------


def test_greedy_search_on_a_hand_built_lattice() -> None:
    # 4 x 4 grid; every contact points at node 0 except node 0's, which points at node 1
    contacts = np.zeros(16, dtype=np.int64)
    contacts[0] = 1
    lattice = KleinbergLattice(4, 2.0, contacts)
    steps = greedy_search_steps(lattice, [15, 0, 6, 9, 5], [0, 15, 6, 0, 4])
    # 15 -> 0 and 9 -> 0 by their contacts; 0 -> 15 walks the grid (its contact 1 is no
    # closer than a grid step); 6 is already at 6; 5 -> 4 is one grid hop
    assert steps.tolist() == [1, 6, 0, 1, 1]


def test_a_tie_goes_to_the_grid_and_the_row_moves_first() -> None:
    # 5 x 5 grid from corner 0 to corner 24 (distance 8). Node 0's contact is node 1, only
    # as close as a grid step; node 1's contact is the target. Taking the tying contact, or
    # moving along the row's column first, would reach node 1 and arrive in 2 hops; the rule
    # moves down to node 5 instead and walks the remaining 7 hops (contacts elsewhere: node 0).
    contacts = np.zeros(25, dtype=np.int64)
    contacts[0], contacts[1] = 1, 24
    lattice = KleinbergLattice(5, 2.0, contacts)
    assert greedy_search_steps(lattice, [0], [24]).tolist() == [8]


def test_without_useful_contacts_search_walks_the_manhattan_distance() -> None:
    side = 6
    nodes = np.arange(side * side)
    right_or_left = np.where(nodes % side < side - 1, nodes + 1, nodes - 1)
    lattice = KleinbergLattice(side, 2.0, right_or_left)  # contacts are grid neighbours
    rng = np.random.default_rng(3)
    sources, targets = rng.integers(0, 36, 200), rng.integers(0, 36, 200)
    assert np.array_equal(
        greedy_search_steps(lattice, sources, targets), grid_distances(side)[sources, targets]
    )


def test_search_rejects_nodes_off_the_grid() -> None:
    lattice = kleinberg_lattice(4, 2.0, np.random.default_rng(0))
    with pytest.raises(InvalidInput):
        greedy_search_steps(lattice, [0], [16])
    with pytest.raises(InvalidInput):
        greedy_search_steps(lattice, [-1], [3])


def test_mean_delivery_time_draws_distinct_pairs() -> None:
    # side 2, r = 50: every contact is a grid neighbour, so a pair at distance 1 takes 1 hop and
    # the opposite corner 2; distinct uniform pairs average 4/3, while allowing a node to be its
    # own target would pull the mean to 1
    lattice = kleinberg_lattice(2, 50.0, np.random.default_rng(0))
    assert mean_delivery_time(lattice, 30_000, np.random.default_rng(1)) == pytest.approx(
        4 / 3, abs=0.015
    )


def test_mean_delivery_time_is_reproducible_and_needs_a_pair() -> None:
    lattice = kleinberg_lattice(60, 2.0, np.random.default_rng(4))
    first = mean_delivery_time(lattice, 500, np.random.default_rng(5))
    assert first == mean_delivery_time(lattice, 500, np.random.default_rng(5))
    with pytest.raises(InvalidInput) as raised:
        mean_delivery_time(lattice, 0, np.random.default_rng(5))
    assert raised.value.problems[0].location == "pairs"


# --- Kleinberg's theorem: how delivery time grows with the grid ----------------------------


@pytest.fixture(scope="module")
def growth() -> dict[float, float]:
    """Mean steps at side 2,000 over mean steps at side 100, for r = 0, 2 and 3.

    2,000 uniform pairs per side give each mean within about 1% (standard error), so
    every ratio is known to about 1.5%, far inside the margins tested below.
    """
    ratios = {}
    for exponent in (0.0, 2.0, 3.0):
        means = []
        for side in (100, 2000):
            rng = np.random.default_rng([side, int(exponent)])
            lattice = kleinberg_lattice(side, exponent, rng)
            means.append(mean_delivery_time(lattice, 2000, rng))
        ratios[exponent] = means[1] / means[0]
    return ratios


def test_at_r_two_delivery_grows_like_log_squared(growth: dict[float, float]) -> None:
    # (ln 4,000,000 / ln 10,000)² = 2.7; the measured ratio is about 3.4
    assert growth[2.0] < 5


@pytest.mark.parametrize("exponent", [0.0, 3.0])
def test_away_from_two_delivery_grows_polynomially(
    growth: dict[float, float], exponent: float
) -> None:
    # r = 0: about side^(2/3), a ratio near 7.4; r = 3: nearly linear in the side, about 15
    assert growth[exponent] > 6
