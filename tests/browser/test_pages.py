"""The browser check: every page of the built book, opened in headless Chromium (`make browser`).

`make test` runs it after the strict build, as

    EMT_BOOK_HTML=_build/html .venv/bin/python -m pytest tests/browser

It serves the built HTML on 127.0.0.1, opens each page the way a reader would and fails on JavaScript
errors, failed requests, requests that leave the machine, raw TeX left in the text, MathJax errors,
images that did not load, widgets that show an empty box instead of their saved state, and chapter
pages without Binder and Colab launch buttons (see browser_check.py). A full-page screenshot of every
page goes to _build/screenshots/ (next to the html folder), for a person to look at.

Without EMT_BOOK_HTML (a plain `pytest tests`) the whole module is skipped: it needs a built book.
Its first test shows, on a small synthetic page, that the check does catch each kind of problem.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import yaml

HTML_ENV = "EMT_BOOK_HTML"
if not os.environ.get(HTML_ENV):
    pytest.skip(
        f"the browser check needs a built book: set {HTML_ENV} (make browser does)",
        allow_module_level=True,
    )

from browser_check import StaticServer, check_page, launch_browser
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
HTML = Path(os.environ[HTML_ENV]).resolve()
VERSION = next(
    line.split("=", 1)[1].strip().strip("\"'")
    for line in (ROOT / "emtlib" / "__init__.py").read_text(encoding="utf-8").splitlines()
    if line.startswith("__version__")
)
FOOTER = f"Version {VERSION} of the book"
SCREENSHOTS = HTML.parent / "screenshots"
SKIP_DIRS = {"_static", "_sources", "_images", "_downloads"}


def built_pages() -> list[str]:
    if not (HTML / "index.html").is_file():
        raise FileNotFoundError(
            f"{HTML} holds no built book (no index.html): run `make build` first"
        )
    pages = []
    for path in sorted(HTML.rglob("*.html")):
        rel = path.relative_to(HTML)
        if not SKIP_DIRS.intersection(rel.parts[:-1]):
            pages.append(rel.as_posix())
    return pages


def chapter_pages() -> set[str]:
    """Pages built from a notebook: they must carry the launch buttons."""
    return {f"book/{p.stem}.html" for p in (ROOT / "book").glob("*.ipynb")}


def launch_prefixes(page: str) -> dict[str, str]:
    """The links JB1 must put on a chapter page, from _config.yml's repository and launch settings."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    repo = config["repository"]["url"].rstrip("/")
    owner_repo = repo.split("github.com/", 1)[1]
    branch = config["repository"].get("branch", "main")
    launch = config["launch_buttons"]
    interface = {"jupyterlab": "lab/tree", "classic": "tree"}[
        launch.get("notebook_interface", "classic")
    ]
    source = page[: -len(".html")] + ".ipynb"
    return {
        "Binder": f"{launch['binderhub_url'].rstrip('/')}/v2/gh/{owner_repo}/{branch}?urlpath={interface}/{source}",
        "Colab": f"{launch['colab_url'].rstrip('/')}/github/{owner_repo}/blob/{branch}/{source}",
    }


def screenshot_path(page: str) -> Path:
    return SCREENSHOTS / (re.sub(r"[^A-Za-z0-9_.-]+", "__", page[: -len(".html")]) + ".png")


PAGES = built_pages()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = launch_browser(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def server():
    with StaticServer(HTML) as running:
        yield running


def test_the_check_catches_broken_pages(browser, tmp_path):
    """A page with raw TeX, a missing image, a script error, an empty widget box, a table wider
    than its column and no launch buttons must be reported on every count; a clean page must pass."""
    (tmp_path / "broken.html").write_text(
        "<!DOCTYPE html><html><body><p>Raw math: $x^2$ and \\(y\\).</p>"
        '<img src="missing.png" alt="missing">'
        "<script>throw new Error('boom');</script>"
        '<div class="cell_output"><script type="application/vnd.jupyter.widget-view+json">'
        '{"model_id": "0"}</script></div>'
        '<article class="bd-article" style="width: 300px"><div class="pst-scrollable-table-container" '
        'style="overflow-x: auto"><table><tr><td style="white-space: nowrap">'
        + "wide " * 80
        + "</td></tr></table></div></article></body></html>",
        encoding="utf-8",
    )
    (tmp_path / "clean.html").write_text(
        "<!DOCTYPE html><html><body><p>Prose without math.</p><pre>price = $5</pre></body></html>",
        encoding="utf-8",
    )
    with StaticServer(tmp_path) as local:
        broken = check_page(
            browser,
            local.base,
            "broken.html",
            timeout_ms=2_000,
            launch={"Binder": "https://mybinder.org/v2/gh/"},
            footer=FOOTER,
            notebook="_notebooks/broken.ipynb",
        )
        clean = check_page(browser, local.base, "clean.html", timeout_ms=2_000)
    text = "\n".join(broken.problems)
    for expected in (
        "raw TeX",
        "image not loaded",
        "JavaScript error",
        "boom",
        "did not render",
        "no Binder launch button",
        "HTTP 404",
        "too wide for the page: table",
        "the footer does not say",
        "does not offer _notebooks/broken.ipynb",
    ):
        assert expected in text, f"the check missed {expected!r}; it reported:\n{text}"
    assert clean.problems == [], clean.problems


def test_every_chapter_was_built():
    missing = sorted(chapter_pages() - set(PAGES))
    assert not missing, f"chapters without a built page: {missing}"


@pytest.mark.parametrize("page", PAGES)
def test_page(browser, server, page):
    chapter = page in chapter_pages()
    launch = launch_prefixes(page) if chapter else None
    redirect = 'http-equiv="Refresh"' in (HTML / page).read_text(encoding="utf-8")[:2000]
    notebook = f"_notebooks/{page[: -len('.html')]}.ipynb" if chapter else None
    report = check_page(
        browser,
        server.base,
        page,
        screenshot=screenshot_path(page),
        launch=launch,
        redirect=redirect,
        footer=FOOTER,
        notebook=notebook,
    )
    assert not report.problems, (
        f"{page} ({report.facts}; screenshot {screenshot_path(page)}):\n- "
        + "\n- ".join(report.problems)
    )
    if notebook:
        executed = json.loads((HTML / notebook).read_text(encoding="utf-8"))
        with_outputs = [c for c in executed["cells"] if c.get("outputs")]
        assert with_outputs, f"{notebook} is offered for download but has no outputs"


def test_how_to_cite_shows_the_version_and_the_generated_entries(browser, server):
    report = check_page(browser, server.base, "book/how-to-cite.html", footer=FOOTER)
    assert not report.problems, report.problems
    text = (HTML / "book" / "how-to-cite.html").read_text(encoding="utf-8")
    assert f"(version {VERSION})" in text, "the APA entry must carry the version"
    assert "emt_book" in text and VERSION in text, "the BibTeX entry must carry the version"
    assert "karuvally2023emt" in text
