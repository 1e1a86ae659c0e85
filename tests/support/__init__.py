"""Test helpers shared across areas (venue double)."""
