"""spot."""
