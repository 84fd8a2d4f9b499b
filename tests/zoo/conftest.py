"""A loopback HTTP mirror and small presets for the zoo's tests."""

import http.server
import os
import threading
import time

import pytest
from toy_models import tiny_gan, tiny_mixture

import kgan


class MirrorHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder and records every request; can corrupt, truncate, cut or slow files."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        server = self.server
        with server.lock:
            server.requests.append(self.path)
        name = self.path.lstrip("/")
        path = os.path.join(server.root, *name.split("/"))
        if not os.path.isfile(path):
            self.send_error(404)
            return
        with open(path, "rb") as f:
            body = f.read()
        rule = server.rules.get(name)
        declared = len(body)
        if rule == "corrupt":
            body = bytes([body[0] ^ 0xFF]) + body[1:]
        elif rule == "truncate":
            body = body[: len(body) // 2]
            declared = len(body)
        elif rule == "cut":
            body = body[: len(body) // 2]  # the connection closes before Content-Length bytes
        self.send_response(200)
        self.send_header("Content-Length", str(declared))
        self.end_headers()
        for start in range(0, len(body), 1 << 16):
            if server.delay:
                time.sleep(server.delay)
            self.wfile.write(body[start : start + (1 << 16)])
        if rule == "cut":
            self.close_connection = True


@pytest.fixture
def mirror():
    """`start(root)` serves `root` on 127.0.0.1 at a random port; returns the server, which
    has `url`, `requests`, `rules` ({relative path: "corrupt"|"truncate"|"cut"}) and `delay`."""
    servers = []

    def start(root):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), MirrorHandler)
        server.root = os.fspath(root)
        server.requests, server.rules, server.delay = [], {}, 0.0
        server.lock = threading.Lock()
        server.url = f"http://127.0.0.1:{server.server_address[1]}/"
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def toy_zoo(tmp_path, monkeypatch):
    """A zoo folder with two presets, registered as the built-ins, with an empty cache."""
    zoo = tmp_path / "zoo"
    zoo.mkdir()
    kgan.zoo.save_to_preset(tiny_gan(), zoo / "toy_gan", description="toy GAN", dataset="ring8")
    kgan.zoo.save_to_preset(
        tiny_mixture(), zoo / "toy_gmm", description="toy mixture", dataset="toy"
    )
    registry_file = tmp_path / "presets.json"
    kgan.zoo.build_index(zoo, registry_file=registry_file)
    monkeypatch.setattr(kgan.zoo.registry, "REGISTRY_FILE", str(registry_file))
    monkeypatch.setenv("KGAN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KGAN_OFFLINE", raising=False)
    monkeypatch.delenv("KGAN_ZOO_URL", raising=False)
    return zoo
