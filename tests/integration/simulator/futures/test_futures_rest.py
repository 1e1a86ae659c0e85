"""Futures REST over a real socket: auth errors, nonces, trading, budget, timers, wallets."""

from __future__ import annotations

import json
from decimal import Decimal
from urllib.parse import quote

from simulator.engine.clock import ManualClock

from .conftest import FuturesRest

V3 = "/derivatives/api/v3/"


def as_json(text: str) -> dict:  # type: ignore[type-arg]
    return json.loads(text, parse_float=Decimal)  # type: ignore[no-any-return]


async def best_bid(rest: FuturesRest, symbol: str) -> Decimal:
    book = as_json((await rest.http.get(V3 + "orderbook", params={"symbol": symbol})).text)
    return Decimal(book["orderBook"]["bids"][0][0])


async def test_wrong_authent_gets_authentication_error(rest: FuturesRest) -> None:
    bad = await rest.call("GET", V3 + "openorders", authent_override="AAAA" * 22)
    body = as_json(bad.text)
    assert bad.status_code == 200
    assert body["result"] == "error" and body["error"] == "authenticationError"
    assert body["serverTime"].endswith("Z")
    good = await rest.call("GET", V3 + "openorders")
    assert as_json(good.text) == {
        "result": "success",
        "openOrders": [],
        "serverTime": as_json(good.text)["serverTime"],
    }


async def test_nonce_header_is_checked_when_sent(rest: FuturesRest) -> None:
    first = await rest.call("GET", V3 + "accounts", nonce=True)
    assert as_json(first.text)["result"] == "success"
    rest._nonce -= 1  # replay the same nonce
    again = await rest.call("GET", V3 + "accounts", nonce=True)
    assert as_json(again.text)["error"] == "nonceDuplicate"


async def test_form_body_order_edit_cancel_with_cli_ord_id(rest: FuturesRest) -> None:
    price = await best_bid(rest, "PI_XBTUSD") - 50
    body = f"orderType=lmt&symbol=PI_XBTUSD&side=buy&size=100&limitPrice={price}&cliOrdId=my%2F1"
    sent = as_json((await rest.call("POST", V3 + "sendorder", nonce=True, body=body)).text)
    status = sent["sendStatus"]
    assert status["status"] == "placed" and status["cliOrdId"] == "my/1"
    [place] = status["orderEvents"]
    assert place["type"] == "PLACE" and place["order"]["limitPrice"] == price
    edited = as_json(
        (
            await rest.call(
                "POST",
                V3 + "editorder",
                {"cliOrdId": "my/1", "size": "300", "limitPrice": str(price - 1)},
            )
        ).text
    )
    assert edited["editStatus"]["status"] == "edited"
    [row] = as_json((await rest.call("GET", V3 + "openorders")).text)["openOrders"]
    assert (row["unfilledSize"], row["limitPrice"], row["status"]) == (300, price - 1, "untouched")
    cancel = as_json(
        (await rest.call("POST", V3 + "cancelorder", {"order_id": row["order_id"]})).text
    )
    assert cancel["cancelStatus"]["status"] == "cancelled"
    again = as_json(
        (await rest.call("POST", V3 + "cancelorder", {"order_id": row["order_id"]})).text
    )
    assert again["cancelStatus"]["status"] == "notFound"


async def test_batchorder_raw_and_encoded_json(rest: FuturesRest) -> None:
    price = await best_bid(rest, "PF_XBTUSD") - 200
    batch = {
        "batchOrder": [
            {
                "order": "send",
                "order_tag": "a",
                "orderType": "lmt",
                "symbol": "PF_XBTUSD",
                "side": "buy",
                "size": 0.01,
                "limitPrice": float(price),
            },
            {
                "order": "send",
                "order_tag": "b",
                "orderType": "post",
                "symbol": "PF_XBTUSD",
                "side": "buy",
                "size": 0.02,
                "limitPrice": float(price - 1),
            },
        ]
    }
    raw = "json=" + json.dumps(batch, separators=(",", ":"))  # CCXT: raw JSON, signed as sent
    result = as_json((await rest.call("POST", V3 + "batchorder", body=raw)).text)
    tags = [(s["order_tag"], s["status"]) for s in result["batchStatus"]]
    assert tags == [("a", "placed"), ("b", "placed")]
    ids = [s["order_id"] for s in result["batchStatus"]]
    cancel = {"batchOrder": [{"order": "cancel", "order_id": i} for i in ids]}
    encoded = "json=" + quote(json.dumps(cancel))  # PKS/APIGO: URL-encoded form field
    result = as_json((await rest.call("POST", V3 + "batchorder", body=encoded)).text)
    assert [s["status"] for s in result["batchStatus"]] == ["cancelled", "cancelled"]
    bad = as_json((await rest.call("POST", V3 + "batchorder", body="json={oops")).text)
    assert bad["error"] == "Json Parse Error"


async def test_order_statuses_and_envelope_errors(rest: FuturesRest) -> None:
    unknown = as_json(
        (
            await rest.call(
                "POST",
                V3 + "sendorder",
                {
                    "orderType": "lmt",
                    "symbol": "PI_NOPE",
                    "side": "buy",
                    "size": "1",
                    "limitPrice": "1",
                },
            )
        ).text
    )
    assert unknown["error"] == "contractNotFound"
    missing = as_json((await rest.call("POST", V3 + "sendorder", {"orderType": "lmt"})).text)
    assert missing["error"] == "requiredArgumentMissing"
    bad_type = as_json(
        (
            await rest.call(
                "POST",
                V3 + "sendorder",
                {"orderType": "wat", "symbol": "PI_XBTUSD", "side": "buy", "size": "1"},
            )
        ).text
    )
    assert bad_type["result"] == "success"
    assert bad_type["sendStatus"]["status"] == "invalidOrderType"
    assert bad_type["sendStatus"]["orderEvents"] == []


async def test_cost_budget_refuses_with_api_limit_exceeded(
    rest: FuturesRest, clock: ManualClock
) -> None:
    # cancelallorders costs 25: twenty fill the 500 budget exactly, the 21st is refused.
    for _ in range(20):
        ok = as_json((await rest.call("POST", V3 + "cancelallorders")).text)
        assert ok["cancelStatus"]["status"] == "noOrdersToCancel"
    refused = as_json((await rest.call("POST", V3 + "cancelallorders")).text)
    assert refused["result"] == "error" and refused["error"] == "apiLimitExceeded"
    public = as_json((await rest.http.get(V3 + "tickers")).text)  # public calls cost nothing
    assert public["result"] == "success"
    clock.advance(1)  # 50 units drain per second: two more calls fit
    for _ in range(2):
        assert (
            as_json((await rest.call("POST", V3 + "cancelallorders")).text)["result"] == "success"
        )
    again = as_json((await rest.call("POST", V3 + "cancelallorders")).text)
    assert again["error"] == "apiLimitExceeded"


async def test_cancel_all_orders_after_fires_on_the_clock(
    rest: FuturesRest, clock: ManualClock
) -> None:
    price = await best_bid(rest, "PF_ETHUSD") - 10
    order = {"orderType": "lmt", "symbol": "PF_ETHUSD", "side": "buy", "size": "1"}
    await rest.call("POST", V3 + "sendorder", {**order, "limitPrice": str(price)})
    armed = as_json((await rest.call("POST", V3 + "cancelallordersafter", {"timeout": "30"})).text)
    assert armed["status"]["triggerTime"] > armed["status"]["currentTime"]
    clock.advance(29)
    assert len(as_json((await rest.call("GET", V3 + "openorders")).text)["openOrders"]) == 1
    clock.advance(2)
    assert as_json((await rest.call("GET", V3 + "openorders")).text)["openOrders"] == []
    off = as_json((await rest.call("POST", V3 + "cancelallordersafter", {"timeout": "0"})).text)
    assert off["status"]["triggerTime"] == "0"


async def test_fills_positions_accounts_transfer_and_history(rest: FuturesRest) -> None:
    sent = as_json(
        (
            await rest.call(
                "POST",
                V3 + "sendorder",
                {
                    "orderType": "mkt",
                    "symbol": "PF_XBTUSD",
                    "side": "buy",
                    "size": "0.1",
                    "cliOrdId": "m-1",
                },
            )
        ).text
    )
    [exe] = [e for e in sent["sendStatus"]["orderEvents"] if e["type"] == "EXECUTION"]
    [fill] = as_json((await rest.call("GET", V3 + "fills")).text)["fills"]
    assert (fill["order_id"], fill["size"], fill["price"], fill["fillType"]) == (
        sent["sendStatus"]["order_id"],
        Decimal("0.1"),
        exe["price"],
        "taker",
    )
    assert fill["cli_ord_id"] == "m-1" and fill["fee_currency"] == "USD"
    volumes = as_json((await rest.call("GET", V3 + "feeschedules/volumes")).text)
    linear_schedule = "723888f7-0a8e-4183-8648-f920a22339e3"
    assert volumes["volumesByFeeSchedule"][linear_schedule] == Decimal("0.1") * fill["price"]
    [pos] = as_json((await rest.call("GET", V3 + "openpositions")).text)["openPositions"]
    assert (pos["side"], pos["symbol"], pos["size"], pos["price"]) == (
        "long",
        "PF_XBTUSD",
        Decimal("0.1"),
        exe["price"],
    )
    wallets = as_json((await rest.call("GET", V3 + "accounts")).text)["accounts"]
    flex = wallets["flex"]
    assert flex["type"] == "multiCollateralMarginAccount" and flex["initialMargin"] > 0
    assert flex["availableMargin"] == flex["portfolioValue"] - flex["initialMarginWithOrders"]
    assert wallets["cash"]["type"] == "cashAccount"
    xbt_before = wallets["fi_xbtusd"]["balances"]["xbt"]
    moved = await rest.call(
        "POST",
        V3 + "transfer",
        {"fromAccount": "fi_xbtusd", "toAccount": "cash", "unit": "xbt", "amount": "0.5"},
    )
    assert as_json(moved.text)["result"] == "success"
    wallets = as_json((await rest.call("GET", V3 + "accounts")).text)["accounts"]
    assert wallets["cash"]["balances"]["xbt"] == Decimal("0.5")
    assert wallets["fi_xbtusd"]["balances"]["xbt"] == xbt_before - Decimal("0.5")
    logs = as_json((await rest.call("GET", "/api/history/v3/account-log")).text)["logs"]
    assert [
        (r["info"], r["margin_account"], r["new_balance"] - r["old_balance"]) for r in logs
    ] == [
        ("transfer", "cash", Decimal("0.5")),
        ("transfer", "fi_xbtusd", Decimal("-0.5")),
        ("futures trade", "flex", -fill["fee_paid"]),
    ]
    too_much = await rest.call(
        "POST",
        V3 + "transfer",
        {"fromAccount": "cash", "toAccount": "flex", "unit": "xbt", "amount": "9"},
    )
    assert as_json(too_much.text)["error"] == "insufficientFunds"
    executions = as_json((await rest.call("GET", "/api/history/v2/executions")).text)
    [element] = executions["elements"]
    execution = element["event"]["Execution"]["execution"]
    assert execution["takerOrder"]["clientId"] == "m-1"
    assert Decimal(execution["price"]) == fill["price"]
    history = as_json((await rest.call("GET", "/api/history/v2/orders")).text)
    kinds = [next(iter(e["event"])) for e in history["elements"]]
    assert kinds == ["OrderUpdated", "OrderPlaced"]
    updated = history["elements"][0]["event"]["OrderUpdated"]
    assert updated["reason"] == "full_fill" and updated["newOrder"]["clientId"] == "m-1"


async def test_order_history_pages_with_a_continuation_token(rest: FuturesRest) -> None:
    price = await best_bid(rest, "PF_XBTUSD") - 500
    placed = []
    for i in range(3):
        params = {"orderType": "lmt", "symbol": "PF_XBTUSD", "side": "buy", "size": "0.01"}
        params |= {"limitPrice": str(price - i), "cliOrdId": f"h-{i}"}
        sent = as_json((await rest.call("POST", V3 + "sendorder", params)).text)
        placed.append(sent["sendStatus"]["order_id"])
    await rest.call("POST", V3 + "cancelorder", {"order_id": placed[0]})
    path = "/api/history/v2/orders"

    def events(page: dict) -> list[tuple[str, str]]:  # type: ignore[type-arg]
        out = []
        for element in page["elements"]:
            [(kind, body)] = element["event"].items()
            out.append((kind, body["order"]["uid"]))
        return out

    first = as_json((await rest.call("GET", path, {"sort": "asc", "count": "3"})).text)
    assert events(first) == [("OrderPlaced", uid) for uid in placed] and first["len"] == 3
    token = first["continuationToken"]
    rest_of = as_json(
        (
            await rest.call("GET", path, {"sort": "asc", "count": "3", "continuation_token": token})
        ).text
    )
    assert events(rest_of) == [("OrderCancelled", placed[0])]
    assert "continuationToken" not in rest_of
    newest = as_json((await rest.call("GET", path, {"count": "1"})).text)
    assert events(newest) == [("OrderCancelled", placed[0])]
    older = as_json(
        (
            await rest.call(
                "GET", path, {"count": "5", "continuation_token": newest["continuationToken"]}
            )
        ).text
    )
    assert events(older) == [("OrderPlaced", uid) for uid in reversed(placed)]
    bad = as_json((await rest.call("GET", path, {"continuation_token": "not a token"})).text)
    assert bad["error"] == "invalidArgument"
