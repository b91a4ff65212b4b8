"""What a batch adds to the roll-up when the store skipped some of its events: taken off
what all of them add, it must equal what the events kept add, computed from them alone."""

from __future__ import annotations

import random

import numpy as np
import pytest

from iotbill.adapters.storage.sql.daily_sums import DAY, HOUR, Sums

RECEIVED = 400 * DAY


def batch(rng: random.Random, size: int, keep: list[bool] | None = None) -> Sums:
    """A batch of ``size`` events over a few customers, types and days, some recent, with
    two properties that not every event has; only the events ``keep`` marks, if given."""
    customer_of = [rng.randrange(3) for _ in range(size)]
    kind_of = [rng.randrange(2) for _ in range(size)]
    occurred = [
        RECEIVED - rng.choice([0, 1, 5, 40]) * DAY - rng.randrange(DAY) for _ in range(size)
    ]
    numbers = {
        name: [
            (index, rng.choice([1, 2**40 + 7, rng.randrange(-(2**50), 2**50)]))
            for index in range(size)
            if rng.random() < share
        ]
        for name, share in (("m3", 0.9), ("kwh", 0.3))
    }
    chosen = [index for index in range(size) if keep is None or keep[index]]
    position = {index: at for at, index in enumerate(chosen)}
    return Sums.of(
        [f"e{index}" for index in chosen],
        ["c0", "c1", "c2"],
        np.array([customer_of[index] for index in chosen], np.intp),
        ["pump.flow", "pump.run"],
        np.array([kind_of[index] for index in chosen], np.intp),
        np.array([occurred[index] for index in chosen], np.int64),
        {
            name: (
                np.array([position[index] for index, _ in found if index in position], np.intp),
                np.array([value for index, value in found if index in position], np.int64),
            )
            for name, found in numbers.items()
        },
        RECEIVED,
    )


@pytest.mark.parametrize("seed", range(40))
def test_skipped_events_are_taken_off_exactly(seed: int) -> None:
    rng = random.Random(seed)
    size = rng.randrange(1, 60)
    share = rng.choice([0.0, 0.05, 0.5, 0.95, 1.0])
    skipped = [rng.random() < share for _ in range(size)]
    whole = batch(random.Random(seed), size)
    kept = batch(random.Random(seed), size, [not skip for skip in skipped])
    ids = [f"e{index}" for index in range(size) if skipped[index]]
    assert whole.increments([*ids, "not-in-the-batch"]) == kept.fresh


def test_a_key_whose_events_are_all_skipped_goes_and_the_others_lose_theirs() -> None:
    # e0 and e1 on day 1, e2 alone on day 2: skipping e1 and e2 leaves e0's rows only
    # (a count row adds one to its low half per event).
    sums = Sums.of(
        ["e0", "e1", "e2"],
        ["c"],
        np.zeros(3, np.intp),
        ["t"],
        np.zeros(3, np.intp),
        np.array([DAY + HOUR, DAY + 2 * HOUR, 2 * DAY], np.int64),
        {"m3": (np.array([0, 1, 2], np.intp), np.array([5, 2**33 + 1, 9], np.int64))},
        RECEIVED,
    )
    days, hours = sums.increments(["e1", "e2"])
    assert days == (("c", "t", 1, "", 1, 0, 1), ("c", "t", 1, "m3", 1, 0, 5))
    assert hours == ()
