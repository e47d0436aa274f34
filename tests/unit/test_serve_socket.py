"""`erts serve --workers N` listens on a socket whose protocol is IPPROTO_TCP, so asyncio
turns Nagle's algorithm off on every connection it accepts (uvicorn's own socket has
protocol 0, and each response then waited ~40 ms for the client's delayed ACK)."""

from __future__ import annotations

import asyncio
import socket
from concurrent.futures import ThreadPoolExecutor

from app.cli import listening_socket, main


def _nodelay_of_accepted(sock: socket.socket) -> int:
    async def run() -> int:
        got: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        def on_client(_r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            s = w.get_extra_info("socket")
            got.set_result(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            w.close()

        server = await asyncio.start_server(on_client, sock=sock)
        host, port = sock.getsockname()[:2]
        _r, w = await asyncio.open_connection(host, port)
        value = await asyncio.wait_for(got, 5)
        w.close()
        server.close()
        return value

    # in a thread of its own: another test's event loop may be running in this one
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result(timeout=10)


def test_accepted_connections_have_nagle_off() -> None:
    sock = listening_socket("127.0.0.1", 0)
    assert sock.proto == socket.IPPROTO_TCP
    assert _nodelay_of_accepted(sock) != 0


def test_a_protocol_zero_socket_would_leave_nagle_on() -> None:
    """Why `listening_socket` exists: the socket uvicorn binds for its workers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    assert _nodelay_of_accepted(sock) == 0


def test_serve_on_a_taken_port_exits_3(capsys) -> None:  # type: ignore[no-untyped-def]
    taken = listening_socket("127.0.0.1", 0)
    taken.listen()
    port = taken.getsockname()[1]
    try:
        assert main(["serve", "--workers", "2", "--port", str(port)]) == 3
        assert "address_unavailable" in capsys.readouterr().err
    finally:
        taken.close()
