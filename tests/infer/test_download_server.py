"""Test helpers (no tests here): a local HTTP server on 127.0.0.1 and a tiny random-weight model.

The server serves byte blobs by path, honours Range requests, can cut the first response to a path
midway (a dropped connection), can act as an HTTP proxy (absolute-URL request lines), and logs every
request so tests can see what the client asked for.
"""

from __future__ import annotations

import hashlib
import re
import socket
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class Logged:
    path: str
    range: str | None
    proxied: bool


@dataclass
class LocalServer:
    files: dict[str, bytes] = field(default_factory=dict)
    cut_once: dict[str, int] = field(default_factory=dict)  # path → bytes to send before dropping
    ignore_range: bool = False
    log: list[Logged] = field(default_factory=list)
    httpd: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        assert self.httpd is not None
        return self.httpd.server_address[1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> LocalServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                parsed = urllib.parse.urlsplit(self.path)
                path = parsed.path
                rng = self.headers.get("Range")
                server.log.append(Logged(path, rng, proxied=bool(parsed.scheme)))
                body = server.files.get(path)
                if body is None:
                    self.send_error(404)
                    return
                start = 0
                m = re.match(r"bytes=(\d+)-$", rng or "")
                if m and not server.ignore_range:
                    start = int(m.group(1))
                    if start >= len(body):
                        self.send_error(416)
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                chunk = body[start:]
                self.send_header("Content-Length", str(len(chunk)))
                self.end_headers()
                cut = server.cut_once.pop(path, None)
                if cut is not None:
                    self.wfile.write(chunk[:cut])
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                self.wfile.write(chunk)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()


def free_port() -> int:
    """A port with nothing listening (bound then closed): connections are refused."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def tiny_compact_state_dict(scale: int = 2, seed: int = 0) -> dict:
    """Random weights of a tiny Real-ESRGAN Compact net (spandrel recognises it)."""
    import torch
    from spandrel.architectures.Compact import Compact

    torch.manual_seed(seed)
    net = Compact(num_in_ch=3, num_out_ch=3, num_feat=4, num_conv=2, upscale=scale)
    return {k: v.contiguous() for k, v in net.state_dict().items()}


def tiny_model_bytes(tmp: Path, scale: int = 2, seed: int = 0) -> bytes:
    from safetensors.torch import save_file

    p = tmp / f"tiny-{scale}-{seed}.safetensors"
    save_file(tiny_compact_state_dict(scale, seed), str(p))
    return p.read_bytes()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
