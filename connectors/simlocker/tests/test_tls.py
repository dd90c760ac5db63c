"""Outbound TLS against a real local HTTPS server whose certificate comes from a private CA made here: refused by
default, accepted with that CA as ``ca_bundle`` (or its environment variable), and unverified only when
``verify_tls: false`` is written out (which urllib3 warns about)."""

from __future__ import annotations

import datetime as dt
import http.server
import ipaddress
import json
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pydantic
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from lockerhub_simlocker import SimlockerConfig, SimlockerConnector
from urllib3.exceptions import InsecureRequestWarning

from lockerhub.errors import TransientError

API_KEY = "tls-test-key"  # not a credential
SIZE_CLASSES = [{"size_class": "S", "width_mm": 80, "height_mm": 380, "depth_mm": 640, "max_weight_g": 25000}]


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_ca_and_server_cert(folder: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a certificate for 127.0.0.1 signed by it: (CA PEM, server cert PEM, server key PEM)."""
    now = dt.datetime.now(dt.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (x509.CertificateBuilder().subject_name(_name("lockerhub test CA")).issuer_name(_name("lockerhub test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(ca_ski, critical=False)
          .sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder().subject_name(_name("127.0.0.1")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # http.server's naming
        body = json.dumps(SIZE_CLASSES if self.headers.get("X-API-Key") == API_KEY else {"error": "bad_key"})
        self.send_response(200 if self.headers.get("X-API-Key") == API_KEY else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *_args: object) -> None:
        pass


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a refused handshake (the client does not trust us) is what some tests expect


@pytest.fixture(scope="module")
def https(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """``(base URL, CA bundle path)`` of a local HTTPS server."""
    ca, cert, key = make_ca_and_server_cert(tmp_path_factory.mktemp("tls"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = _Server(("127.0.0.1", 0), _Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", ca
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def size_classes(config: SimlockerConfig) -> list[str]:
    with SimlockerConnector(config) as connector:
        return [c["size_class"] for c in connector.client.size_classes()]


def test_the_default_refuses_a_certificate_from_an_unknown_ca(https: tuple[str, Path],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("LOCKERHUB_SIMLOCKER_CA_BUNDLE", "LOCKERHUB_SIMLOCKER_VERIFY_TLS", "REQUESTS_CA_BUNDLE",
                     "CURL_CA_BUNDLE"):
        monkeypatch.delenv(variable, raising=False)
    url, _ = https
    config = SimlockerConfig(base_url=url, api_key=API_KEY)
    assert config.verify_tls is True and config.ca_bundle is None
    with pytest.raises(TransientError, match="SSLError"):
        size_classes(config)


def test_the_configured_ca_is_trusted(https: tuple[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    url, ca = https
    assert size_classes(SimlockerConfig(base_url=url, api_key=API_KEY, ca_bundle=ca)) == ["S"]
    monkeypatch.setenv("LOCKERHUB_SIMLOCKER_CA_BUNDLE", str(ca))
    assert size_classes(SimlockerConfig(base_url=url, api_key=API_KEY)) == ["S"]


def test_verification_is_off_only_when_written_out(https: tuple[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOCKERHUB_SIMLOCKER_CA_BUNDLE", raising=False)
    url, ca = https
    with pytest.warns(InsecureRequestWarning):
        assert size_classes(SimlockerConfig(base_url=url, api_key=API_KEY, verify_tls=False)) == ["S"]
    with pytest.raises(pydantic.ValidationError, match="ca_bundle is set but verify_tls is false"):
        SimlockerConfig(base_url=url, api_key=API_KEY, verify_tls=False, ca_bundle=ca)


def test_a_missing_ca_bundle_is_a_config_error_naming_the_field(tmp_path: Path) -> None:
    with pytest.raises(pydantic.ValidationError) as err:
        SimlockerConfig(base_url="https://127.0.0.1:1", api_key=API_KEY, ca_bundle=tmp_path / "missing.pem")
    assert err.value.errors()[0]["loc"] == ("ca_bundle",)
