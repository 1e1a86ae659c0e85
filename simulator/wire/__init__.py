"""Transport pieces every front end shares: the JSON codec and the WebSocket connection."""
