"""Kraken Futures front ends: REST v3 (+ history) and WebSocket v1, with their auth and limits."""
