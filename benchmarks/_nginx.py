"""A plain reverse-proxy hop for the gateway benchmarks: nginx from Debian on loopback, in front of the same backends.

The baseline the gateway is compared with: what a real proxy costs for the same hop (keep-alive upstream, no
policies). nginx is installed with apt-get when missing (the benchmark's set-up); it runs as one process
(``master_process off``, one worker, as the emulator's gateway is one process and one event loop) with a
generated configuration in a temporary folder.
"""

from __future__ import annotations

import socket
import subprocess
import tempfile
import time
from pathlib import Path

from _tools import ensure_installed

CONFIG = """\
daemon off;
master_process off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
{upstreams}
    server {{
        listen 127.0.0.1:{port};
        keepalive_requests 1000000;
{locations}
    }}
}}
"""
UPSTREAM = """\
    upstream {name} {{
{servers}
        keepalive 64;
    }}
"""
LOCATION = """\
        location {prefix} {{
            proxy_pass http://{name};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header api-key "{api_key}";
        }}
"""


def ensure_nginx() -> str:
    """The nginx executable, installed from Debian when missing."""
    return ensure_installed("nginx", "nginx")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class NginxProxy:
    """nginx proxying 127.0.0.1:<port> to ``upstreams`` (base URLs), sending ``api_key`` to them.

    ``routes``: path prefix -> base URLs of other upstreams for the paths under that prefix (e.g. the embeddings
    deployment's), each a keep-alive upstream of its own.
    """

    def __init__(self, upstreams: list[str], api_key: str, routes: dict[str, list[str]] | None = None) -> None:
        self.upstreams = upstreams
        self.api_key = api_key
        self.routes = routes or {}

    def __enter__(self) -> NginxProxy:
        binary = ensure_nginx()
        self._folder = tempfile.TemporaryDirectory(prefix="bench-nginx-")
        folder = Path(self._folder.name)
        self.port = _free_port()
        routes = [("/", self.upstreams), *self.routes.items()]
        upstreams = locations = ""
        for number, (prefix, urls) in enumerate(routes):
            servers = "\n".join(f"        server {url.split('://', 1)[1]};" for url in urls)
            upstreams += UPSTREAM.format(name=f"backends{number}", servers=servers)
            locations += LOCATION.format(prefix=prefix, name=f"backends{number}", api_key=self.api_key)
        (folder / "nginx.conf").write_text(CONFIG.format(folder=folder, upstreams=upstreams, locations=locations,
                                                         port=self.port), encoding="utf-8")
        self.process = subprocess.Popen([binary, "-p", str(folder), "-c", str(folder / "nginx.conf")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited: {self.process.stderr.read().decode() if self.process.stderr else ''}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.__exit__()
        raise RuntimeError("nginx did not start listening")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._folder.cleanup()
