"""The hang-up tests' socket check (tests/ptyproc.py) sees the very socket, not its port number."""
from __future__ import annotations

import os
import socket

from tests.ptyproc import tcp_sockets


def test_a_listening_socket_is_listed_while_open_and_not_once_closed():
    server = socket.create_server(("127.0.0.1", 0))
    inode, port = os.fstat(server.fileno()).st_ino, server.getsockname()[1]
    assert tcp_sockets()[inode] == (port, "0A")
    server.close()
    assert inode not in tcp_sockets()


def test_a_port_taken_again_by_another_socket_is_not_the_closed_one():
    # What CI once saw: the port freed, then at once held by someone else's socket.
    server = socket.create_server(("127.0.0.1", 0))
    inode, port = os.fstat(server.fileno()).st_ino, server.getsockname()[1]
    server.close()
    with socket.create_server(("127.0.0.1", port)) as other:
        listed = tcp_sockets()
        assert listed[os.fstat(other.fileno()).st_ino] == (port, "0A")
        assert inode not in listed
