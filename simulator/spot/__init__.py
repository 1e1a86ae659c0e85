"""Kraken Spot front ends: REST `/0/*` and WebSocket v2, with their auth, limits and wire shapes."""
