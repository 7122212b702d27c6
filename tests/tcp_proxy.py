"""A TCP proxy the tests put between warroom and PostgreSQL, to cut or black-hole the network.

- ``up``: bytes pass both ways.
- ``refuse()``: every connection is closed (RST-like) and new ones are refused: a
  server that is down.
- ``blackhole()``: connections stay open but bytes are dropped silently, both ways,
  and new connections are accepted and then ignored: packets lost, no RST, which only
  keepalives and timeouts can notice.
"""
from __future__ import annotations

import select
import socket
import threading


class TcpProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.mode = "up"
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True, name="tcp-proxy")
        self._thread.start()

    def url(self, server_url: str) -> str:
        """``server_url`` (127.0.0.1:PORT) rewritten to go through this proxy."""
        return server_url.replace(f":{self.target[1]}/", f":{self.port}/")

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self._listener], [], [], 0.1)
            if not ready:
                continue
            try:
                client, _ = self._listener.accept()
            except OSError:
                continue
            if self.mode == "refuse":
                _reset(client)
                continue
            if self.mode == "blackhole":
                with self._lock:
                    self._pairs.append((client, client))  # held open, never answered
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _reset(client)
                continue
            with self._lock:
                self._pairs.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        peers = {a: b, b: a}
        try:
            while not self._stop.is_set():
                ready, _, _ = select.select([a, b], [], [], 0.1)
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return self._close(a, b)
                    if self.mode == "up":
                        peers[sock].sendall(data)
                    # blackhole: read and drop, never answer, never close
                if self.mode == "refuse":
                    return self._close(a, b)
        except OSError:
            self._close(a, b)

    def _close(self, a: socket.socket, b: socket.socket) -> None:
        _reset(a)
        _reset(b)

    def refuse(self) -> None:
        self.mode = "refuse"
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for a, b in pairs:
            self._close(a, b)

    def blackhole(self) -> None:
        self.mode = "blackhole"

    def up(self) -> None:
        # Black-holed connections stay dead (as after a real outage): only new ones pass.
        if self.mode == "blackhole":
            with self._lock:
                pairs, self._pairs = self._pairs, []
            for a, b in pairs:
                self._close(a, b)
        self.mode = "up"

    def close(self) -> None:
        self._stop.set()
        self.refuse()
        self._listener.close()
        self._thread.join(timeout=2)

    def __enter__(self) -> "TcpProxy":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _reset(sock: socket.socket) -> None:
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()
    except OSError:
        pass
