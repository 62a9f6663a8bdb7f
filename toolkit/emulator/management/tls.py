"""A throwaway CA and server certificate (trustme) so the Azure SDK can talk HTTPS to the local emulator.

azure-core refuses bearer tokens over plain http; serve with ``ssl_certfile=cert_path`` and
``ssl_keyfile=key_path`` and give the SDK ``connection_verify=ca_bundle_path``.
"""

from __future__ import annotations

import shutil
import ssl
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_HOSTS = ("127.0.0.1", "::1", "localhost")


@dataclass
class TlsMaterial:
    """PEM files: the CA bundle clients trust, and the server's certificate chain and private key."""

    ca_bundle_path: Path
    cert_path: Path
    key_path: Path
    _owned_dir: Path | None = field(default=None, repr=False)

    def client_ssl_context(self) -> ssl.SSLContext:
        """An SSL context trusting only this CA (for httpx: ``verify=material.client_ssl_context()``)."""
        return ssl.create_default_context(cafile=str(self.ca_bundle_path))

    def cleanup(self) -> None:
        """Delete the files if this object created their directory (safe to call twice)."""
        if self._owned_dir is not None:
            shutil.rmtree(self._owned_dir, ignore_errors=True)
            self._owned_dir = None

    def __enter__(self) -> TlsMaterial:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()


def create_tls_material(directory: str | Path | None = None, hosts: tuple[str, ...] = DEFAULT_HOSTS) -> TlsMaterial:
    """Write ``ca.pem``, ``server.pem`` (chain) and ``server.key`` for ``hosts``.

    Into ``directory``, or a new temporary directory that :meth:`TlsMaterial.cleanup` removes.
    """
    import trustme

    owned = None
    if directory is None:
        owned = Path(tempfile.mkdtemp(prefix="toolkit-tls-"))
        folder = owned
    else:
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="toolkit local emulator")
    server = ca.issue_cert(*hosts)
    material = TlsMaterial(folder / "ca.pem", folder / "server.pem", folder / "server.key", owned)
    ca.cert_pem.write_to_path(str(material.ca_bundle_path))
    material.cert_path.write_bytes(b"".join(blob.bytes() for blob in server.cert_chain_pems))
    server.private_key_pem.write_to_path(str(material.key_path))
    material.key_path.chmod(0o600)
    return material
