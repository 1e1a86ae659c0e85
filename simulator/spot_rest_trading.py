"""Spot REST private trading methods: AddOrder, AmendOrder, EditOrder, cancels, dead man switch."""

from __future__ import annotations

from typing import Any

TRADING_METHODS: dict[str, Any] = {}
