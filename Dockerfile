# krakengw gateway image. Credentials come in as mounted files or environment variables at run
# time, never baked into the image.
FROM python:3.11-slim AS build
WORKDIR /src
COPY clients/python /src/clients/python
COPY pyproject.toml README.md /src/
COPY gateway /src/gateway
COPY simulator /src/simulator
RUN pip wheel --no-cache-dir --wheel-dir /wheels ./clients/python .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /var/lib/krakengw krakengw \
    && mkdir -p /var/lib/krakengw && chown krakengw /var/lib/krakengw
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER krakengw
WORKDIR /var/lib/krakengw
EXPOSE 50051
ENTRYPOINT ["kraken-gateway"]
CMD ["serve", "--config", "/etc/krakengw/gateway.toml", "--listen", "0.0.0.0:50051", "--data-dir", "/var/lib/krakengw"]
