"""A kernel reply whose wake-up was lost is still read at once (tools/sphinx/emtbook_sphinx.py, item 6).

The book build executes the chapters through nbclient, which waits for each cell's reply with one
long poll on the shell socket. The socket's file descriptor signals an edge: an operation on the
socket after the reply has arrived (nbclient sends Output-widget state on that socket while the
explorer cells run) can consume the edge, and the poll then sleeps until its timeout although the
reply is there. The test stages exactly that: a reply arrives while a wait is pending, something
else touches the socket before the event loop runs, and the wait must still end within a poll slice.
The same staging against jupyter_client's own ``get_msg`` shows the full timeout, so the test would
catch a regression of the fix.
"""

from __future__ import annotations

import asyncio
import importlib.util
import time
from pathlib import Path

import zmq
import zmq.asyncio
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.session import Session

ROOT = Path(__file__).resolve().parents[1]


def _extension():
    spec = importlib.util.spec_from_file_location(
        "emtbook_sphinx_polls", ROOT / "tools" / "sphinx" / "emtbook_sphinx.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def _reply_with_lost_wakeup(get_msg, timeout: float) -> tuple[float, dict]:
    """Seconds from a reply's arrival until ``get_msg`` returns it, when the socket's readable edge
    is consumed before the event loop sees it; and the message."""
    session = Session(key=b"emt")
    server = zmq.Context.instance().socket(zmq.ROUTER)
    port = server.bind_to_random_port("tcp://127.0.0.1")
    context = zmq.asyncio.Context()
    client = context.socket(zmq.DEALER)
    client.connect(f"tcp://127.0.0.1:{port}")
    try:
        await client.send(b"hello")  # the server learns the client's identity
        assert server.poll(5000), "no handshake"
        identity = server.recv_multipart()[0]
        channel = AsyncZMQSocketChannel(client, session)
        waiting = asyncio.ensure_future(get_msg(channel, timeout))
        await asyncio.sleep(0.2)  # the wait is now registered with the event loop
        session.send(server, "execute_reply", {"status": "ok"}, ident=identity)
        arrived = time.monotonic()
        time.sleep(0.2)  # noqa: ASYNC251 - on purpose: the loop must not see the reply arrive
        zmq.Socket.shadow(client.underlying).get(zmq.EVENTS)  # consumes the readable edge
        message = await waiting
        return time.monotonic() - arrived, message
    finally:
        client.close(linger=0)
        server.close(linger=0)
        context.term()


def _original_get_msg():
    """jupyter_client's own get_msg, also where another test has installed the fix already."""
    get_msg = AsyncZMQSocketChannel.get_msg
    return get_msg.__wrapped__ if getattr(get_msg, "emt_sliced", False) else get_msg


def test_a_lost_wakeup_costs_the_whole_timeout_without_the_fix():
    waited, message = asyncio.run(_reply_with_lost_wakeup(_original_get_msg(), timeout=3.0))
    assert message["msg_type"] == "execute_reply"
    assert waited > 2.5, (
        f"the staged lost wake-up was noticed after {waited:.2f} s: the test no longer reproduces "
        "the stall it guards against"
    )


def test_sliced_polls_read_a_reply_whose_wakeup_was_lost():
    ext = _extension()
    sliced = ext.sliced_get_msg(_original_get_msg())
    waited, message = asyncio.run(_reply_with_lost_wakeup(sliced, timeout=30.0))
    assert message["msg_type"] == "execute_reply" and message["content"] == {"status": "ok"}
    assert waited < ext.POLL_SLICE_S + 1.0, f"the reply was read only after {waited:.2f} s"


def test_sliced_polls_still_time_out():
    from queue import Empty

    ext = _extension()

    async def nothing_arrives():
        context = zmq.asyncio.Context()
        client = context.socket(zmq.DEALER)
        try:
            channel = AsyncZMQSocketChannel(client, Session(key=b"emt"))
            start = time.monotonic()
            try:
                await ext.sliced_get_msg(_original_get_msg())(channel, 1.2)
            except Empty:
                return time.monotonic() - start
            raise AssertionError("get_msg returned a message that was never sent")
        finally:
            client.close(linger=0)
            context.term()

    waited = asyncio.run(nothing_arrives())
    assert 1.1 < waited < 2.5, f"a 1.2 s wait ended after {waited:.2f} s"


def test_installing_the_fix_twice_wraps_once():
    ext = _extension()
    before = AsyncZMQSocketChannel.get_msg
    try:
        ext.slice_kernel_polls()
        once = AsyncZMQSocketChannel.get_msg
        ext.slice_kernel_polls()
        assert AsyncZMQSocketChannel.get_msg is once and once.emt_sliced
    finally:
        AsyncZMQSocketChannel.get_msg = before
