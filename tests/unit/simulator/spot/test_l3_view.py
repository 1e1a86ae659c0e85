"""L3View events keep a client that applies add/modify/delete equal to the live book."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from simulator.spot.ws_l3 import L3Event, L3Order, L3View, side_events

D = Decimal


def apply(client: list[L3Order], events: list[L3Event]) -> list[L3Order]:
    """A client following the L3 rules (asks side): add appends to its level's queue."""
    book = list(client)
    for event in events:
        if event.event == "delete":
            book = [o for o in book if o.order_id != event.order.order_id]
        elif event.event == "modify":
            book = [event.order if o.order_id == event.order.order_id else o for o in book]
        else:
            last_at_level = max(
                (i for i, o in enumerate(book) if o.price == event.order.price), default=None
            )
            if last_at_level is None:  # a new level goes before the first worse ask
                worse = [i for i, o in enumerate(book) if o.price > event.order.price]
                book.insert(worse[0] if worse else len(book), event.order)
            else:
                book.insert(last_at_level + 1, event.order)
    return book


def ordered(orders: list[L3Order], *, asks: bool) -> list[L3Order]:
    """Best price first, keeping queue order within a price (stable sort)."""
    return sorted(orders, key=lambda o: o.price if asks else -o.price)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_queue_changes(seed: int) -> None:
    rng = random.Random(seed)
    live: list[L3Order] = []
    client: list[L3Order] = []
    view = L3View(10, 1, 8)
    next_id = 0
    for _ in range(1500):
        action = rng.random()
        if live and action < 0.25:
            live.pop(rng.randrange(len(live)))
        elif live and action < 0.45:
            i = rng.randrange(len(live))
            live[i] = L3Order(live[i].order_id, live[i].price, D(rng.randint(1, 99)), D(0))
        elif live and action < 0.55:
            # lose priority: to the back of the level (iceberg refill, amend up)
            moved = live.pop(rng.randrange(len(live)))
            live.append(moved)
        else:
            next_id += 1
            live.append(L3Order(f"O{next_id}", D(rng.randint(100, 112)), D(1), D(0)))
        new = ordered(live, asks=True)
        live = new
        update = view.advance(list(new), [])
        if update is not None:
            client = apply(client, update[0])
        assert client == new
    assert view.checksum() != 0


def test_qty_change_is_a_modify_and_move_is_delete_add() -> None:
    a, b = L3Order("A", D(1), D(1), D(0)), L3Order("B", D(1), D(2), D(0))
    events = side_events([a, b], [L3Order("A", D(1), D(5), D(0)), b])
    assert [(e.event, e.order.order_id) for e in events] == [("modify", "A")]
    events = side_events([a, b], [b, a])
    assert [(e.event, e.order.order_id) for e in events] == [("delete", "A"), ("add", "A")]
