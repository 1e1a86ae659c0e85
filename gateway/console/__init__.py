"""The operator console: a read-mostly web page of the running gateway (see `server.py`)."""
