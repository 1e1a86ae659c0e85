"""Optional mTLS: with [server.tls] and a client CA, only clients with a signed certificate
(and a valid bearer token) get through."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from krakengw import AsyncClient, KrakenGwError
from tests.integration.api.conftest import CONFIG, RunningGateway, start_gateway

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _make_pki(d: Path) -> None:
    """A CA, a server cert for 127.0.0.1 and a client cert, all signed by the CA."""
    _openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test-ca",
        "-keyout", "ca.key", "-out", "ca.pem", cwd=d,
    )  # fmt: skip
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    for name, ext in (("server", ["-extfile", "san.ext"]), ("client", [])):
        _openssl(
            "req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}",
            "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=d,
        )  # fmt: skip
        _openssl(
            "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-out", f"{name}.pem", *ext, cwd=d,
        )  # fmt: skip
    for key in d.glob("*.key"):
        key.chmod(0o600)


@pytest.fixture
async def tls_gateway(tmp_path: Path) -> AsyncIterator[tuple[RunningGateway, Path]]:
    _make_pki(tmp_path)
    tls = (
        '[server.tls]\ncert_file = "server.pem"\nkey_file = "server.key"\n'
        'client_ca_file = "ca.pem"\n'
    )
    body = CONFIG.replace("[accounts.acct-a]", tls + "\n[accounts.acct-a]")
    running = await start_gateway(tmp_path, body)
    try:
        yield running, tmp_path
    finally:
        for client in running.clients:
            await client.close()
        await running.app.stop()


async def test_mtls_client_with_certificate_logs_on(
    tls_gateway: tuple[RunningGateway, Path],
) -> None:
    gateway, d = tls_gateway
    credentials = grpc.ssl_channel_credentials(
        root_certificates=(d / "ca.pem").read_bytes(),
        private_key=(d / "client.key").read_bytes(),
        certificate_chain=(d / "client.pem").read_bytes(),
    )
    async with AsyncClient(gateway.target, gateway.tokens["a"], credentials=credentials) as c:
        assert (await c.logon()).session_id == "a"


async def test_client_without_certificate_is_refused(
    tls_gateway: tuple[RunningGateway, Path],
) -> None:
    gateway, d = tls_gateway
    credentials = grpc.ssl_channel_credentials(root_certificates=(d / "ca.pem").read_bytes())
    async with AsyncClient(
        gateway.target, gateway.tokens["a"], credentials=credentials, timeout=5
    ) as client:
        with pytest.raises(KrakenGwError) as err:
            await client.logon()
    assert err.value.code is grpc.StatusCode.UNAVAILABLE
