"""Thin gRPC servicers: convert (gateway.api.convert), delegate to the core, convert back."""
