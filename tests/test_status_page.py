"""The status page's peak memory of each chapter (tools/sphinx/emtbook_sphinx.py, item 9).

The build executes every chapter through myst-nb, which runs nbclient through jupyter-cache. The
extension swaps in a client that asks the kernel for its peak resident memory after each code cell,
and adds the chapter's peak to myst-nb's execution data; ``{emt-chapter-status}`` shows it beside
the run time and names the chapters over 1 GB. The tests run a small notebook that allocates a
known amount, through the client alone and through myst-nb's own execution path, and render the
status table from stand-in execution data.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
ALLOCATED = 300_000_000  # bytes a cell of the test notebook touches, then frees


def _extension():
    spec = importlib.util.spec_from_file_location(
        "emtbook_sphinx_status", ROOT / "tools" / "sphinx" / "emtbook_sphinx.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _notebook():
    """A baseline cell, a cell that fills ALLOCATED bytes and frees them, a markdown cell and a
    last small cell: the peak must stay at its high-water mark after the memory is freed."""
    return nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("x = 1"),
            nbformat.v4.new_code_cell(f"block = b'\\x01' * {ALLOCATED}\ndel block"),
            nbformat.v4.new_markdown_cell("Some text."),
            nbformat.v4.new_code_cell("print(x + 1)"),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    )


@pytest.fixture(scope="module")
def ext():
    return _extension()


def test_the_client_reads_the_kernels_peak_after_every_code_cell(ext, tmp_path):
    nb = _notebook()
    client = ext.MeasuredNotebookClient(
        nb=nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    cells = [index for index, _ in client.peak_rss_by_cell]
    peaks = [value for _, value in client.peak_rss_by_cell]
    assert cells == [0, 1, 3], "one measurement per code cell"
    assert all(isinstance(p, int) and p > 0 for p in peaks), peaks
    assert peaks == sorted(peaks), f"a high-water mark never decreases: {peaks}"
    assert peaks[1] - peaks[0] >= 0.9 * ALLOCATED, (
        f"the allocating cell raised the peak by only {peaks[1] - peaks[0]} bytes"
    )
    assert client.peak_rss_bytes == peaks[-1]
    # the silent requests leave the notebook as an unmeasured run would
    assert [c.get("execution_count") for c in nb.cells if c.cell_type == "code"] == [1, 2, 3]
    assert nb.cells[3].outputs[0]["text"] == "2\n"
    assert all(not c.get("outputs") for c in nb.cells[:2])


def test_a_cell_that_raises_is_measured_too(ext, tmp_path):
    nb = _notebook()
    nb.cells[1].source += "\nraise RuntimeError('stop')"
    client = ext.MeasuredNotebookClient(
        nb=nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    with pytest.raises(Exception, match="stop"):
        client.execute()
    assert [index for index, _ in client.peak_rss_by_cell] == [0, 1]
    assert client.peak_rss_bytes > ALLOCATED


class _Logger:
    def __init__(self):
        self.messages = []

    def info(self, msg, **kwargs):
        self.messages.append(msg)

    warning = debug = error = info


def test_myst_nb_execution_data_carries_the_peak(ext, tmp_path):
    from myst_nb.core.config import NbParserConfig
    from myst_nb.core.execute.direct import NotebookClientDirect

    ext.measure_chapter_memory()
    ext.measure_chapter_memory()  # installing twice changes nothing
    import jupyter_cache.executors.utils as jupyter_cache_utils

    assert jupyter_cache_utils.executenb is ext.measured_execute
    assert NotebookClientDirect.start_client.emt_measured
    path = tmp_path / "chapter.ipynb"
    nbformat.write(_notebook(), path)
    config = NbParserConfig(execution_mode="force", execution_timeout=120)
    logger = _Logger()
    with NotebookClientDirect(nbformat.read(path, as_version=4), path, config, logger) as client:
        data = client.exec_metadata
    assert data["succeeded"], logger.messages
    assert data["runtime"] > 0
    assert ALLOCATED < data["peak_rss_bytes"] < 4 * ALLOCATED, data


def _env(exec_data: dict[str, dict]):
    """A stand-in for Sphinx's build environment, as chapter_runs reads it."""
    docs = list(exec_data)
    return SimpleNamespace(
        config=SimpleNamespace(root_doc="book/intro"),
        toctree_includes={"book/intro": ["book/status", *docs]},
        titles={},
        srcdir=str(ROOT),
        nb_metadata={doc: {"exec_data": data} for doc, data in exec_data.items()},
    )


def _run(runtime, peak, succeeded=True, method="force"):
    return {"runtime": runtime, "peak_rss_bytes": peak, "succeeded": succeeded, "method": method}


def test_the_summary_names_chapters_over_either_budget(ext):
    runs = [
        {"title": "Small", **_run(30.0, 200_000_000)},
        {"title": "Slow", **_run(ext.BUDGET_S + 1.0, 300_000_000)},
        {"title": "Large", **_run(60.0, ext.MEMORY_BUDGET_BYTES + 1)},
    ]
    text = ext.status_summary(runs)
    assert f"Over the {ext.BUDGET_S} s budget of a chapter in this build: Slow." in text, text
    assert "Over the 1 GB memory budget: Large." in text, text
    assert "the largest peak 1000 MB" in text, text
    calm = ext.status_summary(runs[:1])
    assert "Every chapter ran within" in calm and "Every measured chapter peaked under 1 GB" in calm
    unmeasured = ext.status_summary([{"title": "Cached", **_run(5.0, None)}])
    assert "Peak memory not measured: Cached." in unmeasured, unmeasured


def test_the_status_table_shows_peak_memory_beside_run_time(ext, caplog):
    env = _env(
        {
            "book/a": _run(12.34, 1_843_000_000),
            "book/b": _run(5.0, None),
            "book/c": _run(7.0, None, method="cache"),
        }
    )
    with caplog.at_level(logging.WARNING):
        table, summary = ext.chapter_status(env, "book/status")
    header = [
        e.astext()
        for e in next(iter(table.findall(lambda n: n.tagname == "thead"))).findall(
            lambda n: n.tagname == "entry"
        )
    ]
    assert header == ["Chapter", "Run time (s)", "Peak memory (MB)", "Result", "emtlib"]
    rows = [
        [e.astext() for e in row.findall(lambda n: n.tagname == "entry")]
        for row in next(iter(table.findall(lambda n: n.tagname == "tbody"))).children
    ]
    assert [r[1:4] for r in rows] == [
        ["12.3", "1843", "passed"],
        ["5.0", "-", "passed"],
        ["7.0", "-", "passed"],
    ]
    assert "Over the 1 GB memory budget: book/a." in summary.astext()
    warned = [r.getMessage() for r in caplog.records]
    assert any("book/b: executed without a measurement" in m for m in warned), warned
    assert not any("book/c" in m for m in warned), "a cached run is not executed by this build"


def test_the_status_page_explains_the_peak_memory_column():
    page = (BOOK / "status.md").read_text(encoding="utf-8")
    assert "{emt-chapter-status}" in page
    assert "Peak memory" in page and "1 GB" in page
