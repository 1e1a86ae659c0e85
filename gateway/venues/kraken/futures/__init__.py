"""Kraken Futures (venue `krakenfutures`): REST v3 for sends, WS v1 feeds for executions."""
