"""TLS for the simulator's one port: a self-signed certificate made at start.

Clients that always dial `https://` / `wss://` reach the simulator by changing the host and port
only, once they trust the certificate file the simulator prints (e.g. `SSL_CERT_FILE`,
`REQUESTS_CA_BUNDLE`, or an `ssl.SSLContext` loaded with it). The certificate names
`localhost`, `127.0.0.1`, `::1` and the bound host, and is its own issuer (a CA certificate), so
it serves as the trust anchor too. The key never leaves the directory it is written to.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

CERT_FILE = "simulator-cert.pem"
KEY_FILE = "simulator-key.pem"
VALID_DAYS = 30


@dataclass(frozen=True)
class TlsFiles:
    cert_path: Path
    key_path: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_path, self.key_path)
        return context


def _san(host: str) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ]
    if not host:
        return names
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        extra: x509.GeneralName = x509.DNSName(host)
    else:
        if address.is_unspecified:  # bound to every interface: clients dial a real address
            return names
        extra = x509.IPAddress(address)
    if extra not in names:
        names.append(extra)
    return names


def write_self_signed(directory: Path, host: str) -> TlsFiles:
    """A fresh P-256 key and a self-signed certificate for `host`, written under `directory`."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "krakengw simulator")])
    # Wall-clock validity: TLS clients check it against real time, not the simulator's clock.
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(_san(host)), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=True,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(directory / CERT_FILE, directory / KEY_FILE)
    files.key_path.touch(mode=0o600)
    files.key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    files.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return files
