"""Operator-facing views of the running gateway: Prometheus metrics, structured logs, tracing."""
