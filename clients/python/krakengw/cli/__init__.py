"""The `krakengw` trading command (console script of the client package); see `main`."""

from krakengw.cli.main import main

__all__ = ["main"]
