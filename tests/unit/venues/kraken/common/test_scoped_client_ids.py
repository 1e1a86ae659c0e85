"""The session-scoped client order id the core sends (gateway/core/venue_ids.py) is taken by
Kraken Spot (`cl_ord_id`) and Futures (`cliOrdId`) as it is: no mapping to journal, and two
sessions' ids for one client order id never collide at Kraken."""

from __future__ import annotations

from gateway.core.venue_ids import scoped_client_order_id
from gateway.venues.kraken.futures.order_params import kraken_futures_cli_ord_id
from gateway.venues.kraken.spot.order_params import kraken_cl_ord_id


def test_scoped_ids_go_to_kraken_verbatim_and_differ_per_session() -> None:
    long_id = "an-order-id-far-longer-than-kraken-spot-takes-as-free-text"
    for client_id in ("c1", long_id, "spaces and ünïcode"):
        one = scoped_client_order_id("acct", "s1", client_id)
        other = scoped_client_order_id("acct", "s2", client_id)
        assert one != other
        assert one == scoped_client_order_id("acct", "s1", client_id)  # stable: restarts agree
        for encode in (kraken_cl_ord_id, kraken_futures_cli_ord_id):
            assert encode(one).value == one and not encode(one).mapped
    # NUL-separated parts: shifting text between session and id names another order.
    assert scoped_client_order_id("acct", "s1x", "c") != scoped_client_order_id("acct", "s1", "xc")
