# krakengw gateway image. Credentials come in as mounted files or environment variables at run
# time, never baked into the image (README: "Run it in a container").
FROM python:3.11-slim AS build
WORKDIR /src
COPY clients/python /src/clients/python
COPY pyproject.toml README.md /src/
COPY gateway /src/gateway
COPY simulator /src/simulator
RUN pip wheel --no-cache-dir --wheel-dir /wheels ./clients/python .

FROM python:3.11-slim
# A fixed numeric uid/gid, so secret files can be owned by it on the host (owner-only, mode
# 0400) and the key-file permission check passes.
RUN groupadd --system --gid 10001 krakengw \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/krakengw krakengw \
    && mkdir -p /var/lib/krakengw /etc/krakengw \
    && chown 10001:10001 /var/lib/krakengw
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER 10001:10001
WORKDIR /var/lib/krakengw
# The journal (SQLite, WAL): keep it across container restarts.
VOLUME ["/var/lib/krakengw"]
# gRPC, Prometheus metrics, operator console
EXPOSE 50051 9464 8080
# Healthy = the gRPC health service reports the order service SERVING (not just an open port).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["kraken-gateway", "health", "--target", "127.0.0.1:50051", "--timeout", "4"]
ENTRYPOINT ["kraken-gateway"]
CMD ["serve", "--config", "/etc/krakengw/gateway.toml", "--listen", "0.0.0.0:50051", "--data-dir", "/var/lib/krakengw", "--log-format", "json"]
