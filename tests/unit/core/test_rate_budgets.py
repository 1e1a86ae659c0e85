"""TradingService.rate_budgets: the budgets of the session's account, from the venue ports that
model them (RateBudgetPort); ports without them (the double) add nothing."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from gateway.core.model import Permission, RateBudget, SessionContext
from gateway.core.ports import RateBudgetPort
from gateway.core.service import TradingService
from tests.support.venue_double import VenueDouble
from tests.unit.core.conftest import ACCOUNT, CANCEL_ONLY, TRADER


class BudgetedVenue(VenueDouble):
    def __init__(self, venue: str, budgets: Sequence[RateBudget]) -> None:
        super().__init__(venue=venue)
        self.budgets = list(budgets)

    def rate_budgets(self) -> Sequence[RateBudget]:
        return self.budgets


def budget(name: str, venue: str, symbol: str | None = None, used: str = "1") -> RateBudget:
    return RateBudget(
        name=name,
        venue=venue,
        symbol=symbol,
        limit=Decimal(10),
        used=Decimal(used),
        decay_per_second=Decimal("0.5"),
    )


async def test_budgets_come_from_the_accounts_ports_that_model_them(
    service: TradingService, venue: VenueDouble
) -> None:
    assert not isinstance(venue, RateBudgetPort)
    assert service.rate_budgets(TRADER) == []  # the double models no budgets

    spot = BudgetedVenue("spot", [budget("rest", "spot"), budget("trade", "spot", "BTC/USD")])
    other_account = BudgetedVenue("spot", [budget("rest", "spot", used="9")])
    assert isinstance(spot, RateBudgetPort)
    service.attach_venue(ACCOUNT, spot)
    service.attach_venue("acct-2", other_account)

    assert service.rate_budgets(TRADER) == spot.budgets
    assert service.rate_budgets(CANCEL_ONLY) == spot.budgets  # any session of the account
    other = SessionContext("sess-x", "acct-2", frozenset({Permission.READ}))
    assert service.rate_budgets(other) == other_account.budgets


def test_headroom_is_limit_minus_used_and_never_negative() -> None:
    assert budget("x", "v", used="2.25").headroom == Decimal("7.75")
    assert budget("x", "v", used="12").headroom == 0
