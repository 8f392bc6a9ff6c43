"""Open pages of the built book in headless Chromium and report what a reader would see go wrong.

Used by tests/browser/test_pages.py (`make browser`); importable on its own for a quick look:

    EMT_BOOK_HTML=_build/html .venv/bin/python -m pytest tests/browser

For every page, :func:`check_page` waits until MathJax has typeset and the saved widgets have
rendered, then reports

- JavaScript errors (uncaught exceptions and ``console.error``), failed or 4xx/5xx requests to the
  book's own server, and any request that leaves it (the book must work offline);
- raw TeX left in the text: ``$``, ``\\(``, ``\\[``, ``\\begin{`` or a bare TeX command in a text node
  outside typeset math and code, and MathJax error boxes;
- formulas and tables too wide for the text column (a scroll bar, or text running past the edge);
- images that did not load (``complete`` with ``naturalWidth == 0``);
- widgets that show an empty box instead of their saved state, or stick out of the page column;
- on chapter pages, missing Binder and Colab launch buttons, and a download menu without the
  executed notebook;
- a footer without the book's version;

and saves a full-page screenshot. The Chromium is the one tools/chromium.py finds (``EMT_CHROMIUM``,
a system Chromium or Chrome, or Playwright's download), driven through Playwright's Python package
with ``executable_path``; `make browser` installs one first where the machine has none.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import importlib.util
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from typing_extensions import Self

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 900}

# Text nodes under these elements may legitimately contain `$` or backslashes.
RAW_TEX_JS = r"""
() => {
  const skip = new Set(["SCRIPT", "STYLE", "PRE", "CODE", "TEXTAREA", "KBD", "SAMP", "NOSCRIPT",
                        "MJX-CONTAINER", "MJX-ASSISTIVE-MML", "SVG", "MATH"]);
  const pattern = /\$|\\\(|\\\)|\\\[|\\\]|\\begin\{|\\end\{|\\(frac|mathbb|mathrm|operatorname|lambda|Phi|Psi|Xi|sum|top|langle|rangle|lvert|rvert|sigma|tanh|alpha|beta|delta|varepsilon|ldots|dots|quad|left|right|big|tilde|hat|sqrt|in|le|ge|ne|to)(?![A-Za-z])/;
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    let el = node.parentElement, skipped = false;
    while (el) {
      if (skip.has(el.tagName.toUpperCase()) || el.classList.contains("highlight")) { skipped = true; break; }
      el = el.parentElement;
    }
    if (skipped) continue;
    const text = node.textContent;
    const m = text.match(pattern);
    if (m) {
      const i = Math.max(0, m.index - 40);
      found.push(text.slice(i, m.index + 60).replace(/\s+/g, " ").trim());
    }
  }
  return {raw: found.slice(0, 20), count: found.length,
          merror: Array.from(document.querySelectorAll("mjx-merror")).map(e => e.textContent).slice(0, 10),
          typeset: document.querySelectorAll("mjx-container").length};
}
"""

# Formulas and tables that do not fit the text column: a display equation that needs a scroll bar, an
# inline formula that runs past the column's edge, a table that scrolls sideways. Hidden content
# (collapsed solutions) has no size and is skipped.
WIDTH_JS = r"""
() => {
  const article = document.querySelector("article.bd-article");
  if (!article) return [];
  const right = article.getBoundingClientRect().right - parseFloat(getComputedStyle(article).paddingRight) + 2;
  const source = el => {
    try {
      const items = MathJax.startup.document.getMathItemsWithin(el);
      if (items.length) return items[0].math.replace(/\s+/g, " ").trim();
    } catch (e) {}
    return el.textContent.replace(/\s+/g, " ").trim();
  };
  const found = [];
  for (const el of article.querySelectorAll("mjx-container")) {
    const box = el.getBoundingClientRect();
    if (box.width === 0) continue;
    if (el.getAttribute("display") === "true") {
      if (el.scrollWidth > el.clientWidth + 8)
        found.push(`display formula ${el.scrollWidth - el.clientWidth} px wider than its box: ${source(el).slice(0, 90)}`);
    } else if (box.right > right) {
      found.push(`inline formula runs ${Math.round(box.right - right)} px past the column: ${source(el).slice(0, 90)}`);
    }
  }
  for (const el of article.querySelectorAll(".pst-scrollable-table-container")) {
    if (el.getBoundingClientRect().width > 0 && el.scrollWidth > el.clientWidth + 2)
      found.push(`table ${el.scrollWidth - el.clientWidth} px wider than the column: ${el.innerText.replace(/\s+/g, " ").slice(0, 60)}`);
  }
  return found;
}
"""

IMAGES_JS = r"""
() => Array.from(document.images).map(img => ({
  src: img.currentSrc || img.src, complete: img.complete, width: img.naturalWidth,
  alt: img.alt || ""}))
"""

WIDGETS_JS = r"""
() => {
  const views = Array.from(document.querySelectorAll(
      'script[type="application/vnd.jupyter.widget-view+json"]'));
  return views.map((script, i) => {
    const area = script.parentElement.querySelector(":scope > .widget-subarea");
    if (!area) return {index: i, rendered: false};
    const box = area.getBoundingClientRect();
    let overflow = 0;
    for (const el of area.querySelectorAll("*")) {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.height > 0) overflow = Math.max(overflow, r.right - box.right);
    }
    return {index: i, rendered: true, width: box.width, height: box.height,
            controls: area.querySelectorAll(".jupyter-widgets, .widget-inline-hbox, .widget-box").length,
            outputs: area.querySelectorAll(".jupyter-widgets-output-area, .widget-output").length,
            images: area.querySelectorAll("img").length,
            overflow: Math.round(overflow)};
  });
}
"""

WIDGETS_READY_JS = r"""
() => Array.from(document.querySelectorAll(
        'script[type="application/vnd.jupyter.widget-view+json"]'))
      .every(s => { const a = s.parentElement.querySelector(":scope > .widget-subarea");
                    return a && a.children.length > 0; })
"""

MATHJAX_DONE_JS = r"""
async () => {
  const mj = window.MathJax;
  if (!mj || !mj.startup || !mj.startup.promise) return false;
  await mj.startup.promise;
  if (mj.typesetPromise) await mj.typesetPromise();
  return true;
}
"""


def find_chromium() -> str:
    """The Chromium to drive, as tools/chromium.py finds it ($EMT_CHROMIUM, one on PATH, or
    Playwright's download). `make browser` installs one first where there is none."""
    spec = importlib.util.spec_from_file_location("emt_chromium", ROOT / "tools" / "chromium.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    path = tool.find()
    if path is None:
        raise FileNotFoundError(
            "no Chromium found: `make browser` installs one where it can (tools/chromium.py), "
            "or set EMT_CHROMIUM to a Chromium or Chrome executable"
        )
    return path


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


class StaticServer:
    """Serve one folder on 127.0.0.1 (a free port) from a background thread."""

    def __init__(self, root: Path):
        handler = functools.partial(_QuietHandler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def launch_browser(playwright):
    return playwright.chromium.launch(
        executable_path=find_chromium(), args=CHROMIUM_ARGS, headless=True
    )


@dataclass
class PageReport:
    page: str
    problems: list[str] = field(default_factory=list)
    facts: dict = field(default_factory=dict)


def check_page(
    browser,
    base_url: str,
    page: str,
    screenshot: Path | None = None,
    launch: dict[str, str] | None = None,
    redirect: bool = False,
    timeout_ms: int = 60_000,
    footer: str | None = None,
    notebook: str | None = None,
) -> PageReport:
    """Open ``base_url + page`` and report its problems (see the module docstring).

    ``launch`` maps a provider ("Binder", "Colab") to the start of the link its launch button must
    have; None for pages that need no launch buttons. ``redirect``: the page only forwards the
    reader (a meta refresh); the checks then apply to the page it lands on. ``footer``: text the
    page's footer must contain (the version). ``notebook``: the end of the link the page's download
    menu must offer (the executed notebook); its address is reported in ``facts["notebook"]``.
    """
    report = PageReport(page)
    problems = report.problems
    origin = urlsplit(base_url).netloc
    context = browser.new_context(viewport=VIEWPORT)
    tab = context.new_page()

    def on_route(route):
        if urlsplit(route.request.url).netloc in (origin, ""):
            route.continue_()
        else:
            problems.append(f"request leaves the book (it must work offline): {route.request.url}")
            route.abort()

    context.route("**/*", on_route)
    tab.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
    tab.on(
        "console",
        lambda msg: problems.append(f"console error: {msg.text}") if msg.type == "error" else None,
    )
    tab.on(
        "requestfailed",
        lambda req: (
            problems.append(f"request failed: {req.url} ({req.failure})")
            if urlsplit(req.url).netloc == origin
            else None
        ),
    )
    tab.on(
        "response",
        lambda res: (
            problems.append(f"HTTP {res.status}: {res.url}")
            if res.status >= 400 and urlsplit(res.url).netloc == origin
            else None
        ),
    )
    try:
        tab.goto(base_url + page, wait_until="load", timeout=timeout_ms)
        if redirect:  # a page that only forwards (index.html): check where it lands
            tab.wait_for_url(lambda url: not url.endswith("/" + page), timeout=timeout_ms)
            tab.wait_for_load_state("load", timeout=timeout_ms)
            report.facts["redirected to"] = tab.url[len(base_url) :]
        n_widgets = tab.locator('script[type="application/vnd.jupyter.widget-view+json"]').count()
        if n_widgets:
            # a timeout is reported below, widget by widget
            with contextlib.suppress(PlaywrightTimeout):
                tab.wait_for_function(WIDGETS_READY_JS, timeout=timeout_ms)
        report.facts["mathjax"] = tab.evaluate(MATHJAX_DONE_JS)
        # make lazy images load, then wait for every image to settle
        tab.evaluate(
            "() => document.querySelectorAll('img[loading=lazy]').forEach(i => i.loading = 'eager')"
        )
        # an image that never loads is reported below
        with contextlib.suppress(PlaywrightTimeout):
            tab.wait_for_function(
                "() => Array.from(document.images).every(i => i.complete)", timeout=timeout_ms
            )

        tex = tab.evaluate(RAW_TEX_JS)
        report.facts["typeset"] = tex["typeset"]
        for text in tex["raw"]:
            problems.append(f"raw TeX in the text: {text!r}")
        if tex["count"] > len(tex["raw"]):
            problems.append(f"... {tex['count'] - len(tex['raw'])} more text nodes with raw TeX")
        for text in tex["merror"]:
            problems.append(f"MathJax error: {text!r}")

        for text in tab.evaluate(WIDTH_JS):
            problems.append(f"too wide for the page: {text}")

        images = tab.evaluate(IMAGES_JS)
        report.facts["images"] = len(images)
        for img in images:
            if not img["complete"] or img["width"] == 0:
                problems.append(f"image not loaded: {img['src'][:120]} (alt {img['alt']!r})")

        widgets = tab.evaluate(WIDGETS_JS)
        report.facts["widgets"] = len(widgets)
        for w in widgets:
            where = f"widget {w['index']}"
            if not w["rendered"]:
                problems.append(
                    f"{where} did not render: the page shows an empty box, not its saved state"
                )
                continue
            if w["height"] < 30 or w["controls"] == 0:
                problems.append(f"{where} rendered empty ({w['width']:.0f} x {w['height']:.0f} px)")
            if w["outputs"] and not w["images"]:
                problems.append(f"{where} has an output area without its saved figure")
            if w["overflow"] > 2:
                problems.append(f"{where} sticks out of the page column by {w['overflow']} px")

        if launch is not None:
            hrefs = tab.evaluate(
                "() => Array.from(document.querySelectorAll('a[href]')).map(a => a.href)"
            )
            for provider, prefix in launch.items():
                if not any(h.startswith(prefix) for h in hrefs):
                    problems.append(f"no {provider} launch button (a link starting with {prefix})")
        report.facts["launch"] = launch is not None

        if footer is not None:
            text = tab.evaluate(
                "() => Array.from(document.querySelectorAll('footer, .extra_footer'))"
                ".map(e => e.innerText).join(' ')"
            )
            if footer not in text:
                problems.append(f"the footer does not say {footer!r}: {text.strip()[:120]!r}")
        if notebook is not None:
            links = tab.evaluate(
                "() => Array.from(document.querySelectorAll('.dropdown-download-buttons a[href]'))"
                ".map(a => a.href)"
            )
            offered = [h for h in links if h.endswith(notebook)]
            if not offered:
                problems.append(f"the download menu does not offer {notebook} (it has {links})")
            else:
                report.facts["notebook"] = offered[0]

        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=str(screenshot), full_page=True)
    finally:
        context.close()
    return report
