"""How the book executes a chapter with nbclient: no kernel reply missed, and the kernel's peak
resident memory measured.

Used by the book's Sphinx extension (emtbook_sphinx.py: item 6, lost kernel replies; item 9, the
peak memory of each chapter on the status page) and by benchmarks/chapter_resources.py. It imports
no Sphinx, so a process that runs one chapter stays small beside the kernel it measures.
"""

from __future__ import annotations

import functools
import time

from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

POLL_SLICE_S = 0.5  # longest single wait on a kernel socket (emtbook_sphinx.py, item 6)


def sliced_get_msg(get_msg):
    """Wrap ``AsyncZMQSocketChannel.get_msg`` so that one call never waits on the socket for more
    than :data:`POLL_SLICE_S`: a longer (or unlimited) timeout becomes a series of short polls up
    to the same deadline. Every poll ends by checking the socket itself, so a message whose wake-up
    was lost is still read within a slice. Empty is raised, as before, only at the deadline."""
    from queue import Empty

    @functools.wraps(get_msg)
    async def wrapper(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = POLL_SLICE_S if deadline is None else deadline - time.monotonic()
            try:
                return await get_msg(self, max(0.0, min(POLL_SLICE_S, left)))
            except Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise

    wrapper.emt_sliced = True
    return wrapper


def slice_kernel_polls() -> None:
    """Install :func:`sliced_get_msg` on jupyter_client's asyncio channels (once per process)."""
    from jupyter_client.channels import AsyncZMQSocketChannel

    if not getattr(AsyncZMQSocketChannel.get_msg, "emt_sliced", False):
        AsyncZMQSocketChannel.get_msg = sliced_get_msg(AsyncZMQSocketChannel.get_msg)


# Evaluated in the kernel: its own peak resident set size, in bytes. On Linux that is
# ``VmHWM`` of /proc/self/status, the high-water mark of the kernel's own address space. Not
# ``getrusage(RUSAGE_SELF).ru_maxrss``: Linux carries the peak of the process that started the
# kernel (the Sphinx build, hundreds of MB) across ``exec`` into it, so every chapter would seem to
# peak at least that high. Elsewhere (macOS) it is ``ru_maxrss`` (in bytes there); where the
# resource module is missing (Windows) the expression fails and the peak is reported as not measured.
KERNEL_PEAK_RSS_EXPRESSION = (
    "(lambda os, r, s: int(open('/proc/self/status').read().split('VmHWM:')[1].split()[0]) * 1024"
    " if os.path.exists('/proc/self/status') else r.getrusage(r.RUSAGE_SELF).ru_maxrss"
    " * (1 if s.platform == 'darwin' else 1024))"
    "(__import__('os'), __import__('resource'), __import__('sys'))"
)


class MeasuredNotebookClient(NotebookClient):
    """nbclient's client, asking the kernel for its peak resident memory after every code cell.

    The request is an ``execute_request`` with ``silent=True`` and the empty program: the kernel
    evaluates :data:`KERNEL_PEAK_RSS_EXPRESSION` as a user expression, counts no execution and
    sends no output, so the executed notebook is the same as without the measurement. After the
    run, :attr:`peak_rss_by_cell` lists ``(cell index, bytes or None)`` and :attr:`peak_rss_bytes`
    is the chapter's peak (the kernel's high-water mark after its last cell, or after the cell that
    raised an error). Only the kernel process is measured: a chapter that starts processes of its
    own would have to report them.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.peak_rss_by_cell: list[tuple[int, int | None]] = []

    @property
    def peak_rss_bytes(self) -> int | None:
        values = [v for _, v in self.peak_rss_by_cell if v is not None]
        return max(values) if values else None

    async def async_kernel_peak_rss(self) -> int | None:
        """The kernel's peak resident set size in bytes so far, or None if it cannot say."""
        if self.kc is None:
            return None
        msg_id = self.kc.execute(
            "",
            silent=True,
            store_history=False,
            user_expressions={"peak": KERNEL_PEAK_RSS_EXPRESSION},
            allow_stdin=False,
        )
        reply = await self.async_wait_for_reply(msg_id)
        result = ((reply or {}).get("content", {}).get("user_expressions") or {}).get("peak", {})
        if result.get("status") != "ok":
            return None
        try:
            return int(result["data"]["text/plain"])
        except (KeyError, TypeError, ValueError):
            return None

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        measured = cell.cell_type == "code" and bool(cell.source.strip())
        try:
            executed = await super().async_execute_cell(
                cell, cell_index, execution_count=execution_count, store_history=store_history
            )
        except CellExecutionError:  # the cell raised; the kernel is idle and can still answer
            if measured:
                self.peak_rss_by_cell.append((cell_index, await self.async_kernel_peak_rss()))
            raise
        if measured:
            self.peak_rss_by_cell.append((cell_index, await self.async_kernel_peak_rss()))
        return executed


LAST_PEAK: dict[str, int | None] = {}  # the peak of the notebook this process executed last


def measured_execute(nb, cwd=None, km=None, **kwargs):
    """nbclient's ``execute`` (same arguments), through :class:`MeasuredNotebookClient`; the peak
    is kept in :data:`LAST_PEAK` for the book's extension to add to myst-nb's execution data."""
    resources = {"metadata": {"path": cwd}} if cwd is not None else {}
    client = MeasuredNotebookClient(nb=nb, resources=resources, km=km, **kwargs)
    LAST_PEAK.clear()
    try:
        return client.execute()
    finally:
        LAST_PEAK["bytes"] = client.peak_rss_bytes
