"""What an ingest keeps of its conflicts and duplicate lines, in columns: the same items,
in the same order, as the objects they stand for."""

from __future__ import annotations

import random
from array import array

import pytest

from iotbill.services.ingest import _ordered
from iotbill.services.ingest_screen import Conflicts, EventConflict


def generated(rng: random.Random, count: int) -> list[EventConflict]:
    """Conflicts with tied lines, ids of other lengths and scripts, stored and input firsts."""
    return [
        EventConflict(
            rng.randrange(1, 40),
            rng.choice(["e", "évent-", "事件", "x" * 70]) + str(rng.randrange(1_000)),
            rng.choice([None, rng.randrange(1, 40)]),
        )
        for _ in range(count)
    ]


@pytest.mark.parametrize("seed", range(20))
def test_conflicts_read_as_the_objects_they_keep(seed: int) -> None:
    rng = random.Random(seed)
    objects = generated(rng, rng.randrange(0, 60))
    kept = Conflicts()
    for start in range(0, len(objects), 7):  # appended a batch at a time
        kept.extend(objects[start : start + 7])
    assert len(kept) == len(objects)
    assert list(kept) == objects
    assert kept == objects and kept == tuple(objects)
    assert [kept[-index] for index in range(1, len(objects) + 1)] == objects[::-1]
    assert kept[2:9] == tuple(objects[2:9])
    assert list(kept.by_line()) == sorted(objects, key=lambda c: c.line)  # ties: found order
    assert kept.by_line() != objects or objects == sorted(objects, key=lambda c: c.line)


def test_conflicts_refuse_an_index_past_the_end() -> None:
    kept = Conflicts([EventConflict(3, "a", None)])
    assert kept[-1] == EventConflict(3, "a", None)
    with pytest.raises(IndexError):
        kept[1]
    with pytest.raises(IndexError):
        kept[-2]
    assert Conflicts() == () and Conflicts() != [EventConflict(3, "a", None)]


def test_duplicate_lines_are_merged_in_order() -> None:
    assert _ordered(array("q", [9, 2, 5]), array("q", [4, 1])) == array("q", [1, 2, 4, 5, 9])
    assert _ordered(array("q"), array("q")) == array("q")
