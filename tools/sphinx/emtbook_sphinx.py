"""The book's own small Sphinx extension (loaded through `sphinx.local_extensions` in _config.yml).

It does what Jupyter Book 1's configuration cannot express:

1. **The status page.** MyST substitutions ``{{ emtlib_version }}``, ``{{ python_version }}``,
   ``{{ torch_version }}``, ``{{ numpy_version }}``, ``{{ jupyter_book_version }}``,
   ``{{ myst_nb_version }}``, ``{{ build_commit }}`` and ``{{ build_date }}``, read from the
   environment that builds (and executes) the book; and the directive ``{emt-chapter-status}``, a
   table of every executed chapter in reading order (title, run time, result, emtlib version), from
   the execution data myst-nb records, and the chapters over the two-minute budget. It is myst-nb's ``{nb-exec-table}``
   with chapter titles instead of file names and words instead of emoji.
2. **One copy of every script.** Jupyter Book registers sphinx-thebe's inline configuration twice,
   and the second ``const THEBE_JS_URL`` is a JavaScript error on every page. Identical scripts
   are dropped from each page.
3. **Widgets that render offline without errors.** On pages with saved widget state:
   - the widget manager (``embed-amd.js``) computes the URL of its icon fonts from its AMD module
     name, which resolves next to the page and 404s; a RequireJS ``paths`` entry maps the module
     onto ``_static/``, where `make vendor` put the fonts;
   - ipywidgets typesets widget labels with the MathJax 2 call ``MathJax.Hub.Queue``, but the book
     loads MathJax 3; a two-line shim forwards it to ``MathJax.typesetPromise``;
   - a one-line note above each explorer says that it shows its saved state, and how to run it.
4. **No request leaves the book.** matplotlib's JavaScript animations (``anim.to_jshtml()``) link
   Font Awesome 4 from a CDN for their player buttons. The theme's own Font Awesome already draws
   those icons, so the link is dropped (offline it is only a failed request).
5. **A definite colour mode.** pydata-sphinx-theme logs "Got invalid theme mode" when no default
   mode is set; the book defaults to the light mode (its figures are drawn on white).

6. **No missed kernel replies.** While a cell that shows an explorer runs, nbclient (which myst-nb
   uses to execute the chapters) mirrors the explorer's Output widget and sends its state to the
   kernel on the shell socket, the socket on which it is at the same time waiting for the cell's
   ``execute_reply``. A send processes the socket's pending events and can clear the edge of its
   file descriptor that would have woken the wait: the reply then sits unread until the cell
   timeout expires, and the build stalls with the kernel idle (nbclient issue #312). Waits on a
   kernel channel are therefore cut into polls of at most :data:`POLL_SLICE_S` seconds, so a reply
   whose wake-up was lost is read at the next poll (:func:`slice_kernel_polls`).
7. **One version, shown and cited.** The footer of every page names the version of the book
   and of emtlib (``emtlib.__version__``, :func:`footer_html`). On the "How to cite" page,
   ``{emt-citation} bibtex`` and ``{emt-citation} apa`` are the book's entries converted from
   CITATION.cff by cffconvert when the book is built, and ``{emt-bibtex} key`` is an entry of the
   book's references.bib as pybtex writes it: nothing there is typed by hand, so nothing drifts.
8. **Executed notebooks for download.** The ".ipynb" entry of a chapter's download menu is the
   notebook as executed for this build, with its outputs (myst-nb's copy in ``jupyter_execute/``,
   published under ``_notebooks/``), not the stored notebook without outputs.

The browser check (`make browser`, tests/browser) is what found 2, 3, 4 and 5, and it keeps them fixed.
"""

from __future__ import annotations

import datetime
import functools
import html
import platform
import re
import shutil
import subprocess
import time
from importlib import metadata
from pathlib import Path

from docutils import nodes
from sphinx.addnodes import pending_xref
from sphinx.errors import ExtensionError
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.docutils import SphinxDirective

WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"
BUDGET_S = 120  # a chapter runs in under two minutes on two CPU cores (shared/design.md)
# what matplotlib's to_jshtml() puts in front of every animation
CDN_FONT_AWESOME = re.compile(
    r'<link rel="stylesheet"\s+href="https://maxcdn\.bootstrapcdn\.com/font-awesome/[^"]*"\s*/?>'
)

# Runs before require.js (priority 499 < 500): RequireJS reads a global `require` object as its config.
REQUIRE_CONFIG_JS = (
    "var require = {paths: {'@jupyter-widgets/html-manager/dist': "
    "(document.documentElement.dataset.content_root || './') + '_static'}};"
)

# Installed on DOMContentLoaded: after the deferred MathJax 3 script has run, before the widget
# manager renders on "load".
WIDGET_HELPERS_JS = """
document.addEventListener("DOMContentLoaded", function () {
  var mj = window.MathJax;
  if (mj && mj.startup && !mj.Hub) {
    mj.Hub = {Queue: function () {
      Array.prototype.forEach.call(arguments, function (job) {
        if (Array.isArray(job) && job[0] === "Typeset" && job[2]) {
          mj.startup.promise.then(function () { return mj.typesetPromise([job[2]]); })
            .catch(function (err) { console.warn("MathJax could not typeset a widget label", err); });
        }
      });
    }};
  }
  document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').forEach(function (s) {
    var note = document.createElement("p");
    note.className = "emt-widget-note";
    note.textContent = "Explorer, shown as it was saved when the book was built. To move its controls, " +
      "run the chapter: launch it on Binder or Colab with the rocket button at the top of the page.";
    note.style.cssText = "font-size: 0.85em; font-style: italic; color: #555; margin: 0.25em 0 0.5em 0;";
    s.parentElement.insertBefore(note, s.parentElement.firstChild);
  });
});
"""


POLL_SLICE_S = 0.5  # longest single wait on a kernel socket (item 6 above)


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


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def build_facts(srcdir: Path) -> dict[str, str]:
    """The substitutions of the status page: what built this copy of the book."""
    try:
        import emtlib

        emtlib_version = emtlib.__version__
    except Exception as error:  # noqa: BLE001 - the book cannot build without it; say why
        emtlib_version = f"not importable ({type(error).__name__})"
    commit = _git(["rev-parse", "--short=12", "HEAD"], srcdir)
    if commit is None:
        build_commit = "unknown (not built from a git checkout)"
    else:
        dirty = _git(["status", "--porcelain", "--untracked-files=no"], srcdir)
        build_commit = commit + (" with uncommitted changes" if dirty else "")
    return {
        "emtlib_version": emtlib_version,
        "python_version": platform.python_version(),
        "torch_version": _version("torch"),
        "numpy_version": _version("numpy"),
        "jupyter_book_version": _version("jupyter-book"),
        "myst_nb_version": _version("myst-nb"),
        "build_commit": build_commit,
        "build_date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def _config_inited(app, config) -> None:
    subs = dict(config.myst_substitutions or {})
    for key, value in build_facts(Path(app.srcdir)).items():
        subs.setdefault(key, value)
    config.myst_substitutions = subs
    context = dict(
        config.html_context or {}
    )  # pydata-sphinx-theme reads the mode from html_context
    context.setdefault("default_mode", "light")
    config.html_context = context
    options = dict(config.html_theme_options or {})
    options["extra_footer"] = footer_html(subs["emtlib_version"], options.get("extra_footer", ""))
    config.html_theme_options = options


def footer_html(version: str, rest: str = "") -> str:
    """The page footer: the version of the book and of emtlib, then the rest (_config.yml's)."""
    line = f"Version {html.escape(version)} of the book and of <code>emtlib</code>."
    return f'<p class="emt-version">{line}</p>\n{rest or ""}'


BIBTEX_KEY = "emt_book"


def book_citation(cff_path: Path, style: str) -> str:
    """The book's citation in ``style`` ("bibtex" or "apa"), converted from CITATION.cff by
    cffconvert. cffconvert's BibTeX names every entry ``YourReferenceHere``, leaves out the version
    and does not brace an author that is an entity: the entry gets the key :data:`BIBTEX_KEY`,
    CITATION.cff's version, and braces around entity names."""
    if style not in ("bibtex", "apa"):
        raise ValueError(f"citation style must be 'bibtex' or 'apa', got {style!r}")
    try:
        from cffconvert import Citation
    except ImportError as error:
        raise ExtensionError(
            "the How to cite page is converted from CITATION.cff by cffconvert, which is not "
            "installed (requirements-lock.txt pins it)"
        ) from error
    citation = Citation(cff_path.read_text(encoding="utf-8"), src=str(cff_path))
    try:
        citation.validate()
    except Exception as error:  # jsonschema's or pykwalify's error, with what is wrong
        raise ExtensionError(f"{cff_path.name} is not valid CFF: {error}") from error
    if style == "apa":
        return citation.as_apalike().strip()
    version = str(citation.cffobj["version"])
    text = citation.as_bibtex().strip()
    for author in citation.cffobj.get("authors", []):
        if "name" in author:  # an entity: braced, or BibTeX reads its last word as a surname
            text = text.replace(author["name"], "{" + author["name"] + "}")
    lines = text.splitlines()
    if not lines or not lines[0].startswith("@misc{YourReferenceHere,"):
        raise ExtensionError(f"unexpected BibTeX from cffconvert: {lines[:1]}")
    fields = [line.strip() for line in lines[1:-1]]
    fields.insert(
        next(i + 1 for i, f in enumerate(fields) if f.startswith("title =")),
        f"version = {{{version}}},",
    )
    return "\n".join([f"@misc{{{BIBTEX_KEY},", *(f"  {f}" for f in fields), "}"])


def bibtex_entry(bib_paths: list[Path], key: str) -> str:
    """The entry ``key`` of the first .bib file that has it, written out by pybtex."""
    from pybtex.database import BibliographyData, parse_file

    for path in bib_paths:
        entries = parse_file(str(path), bib_format="bibtex").entries
        if key in entries:
            return BibliographyData({key: entries[key]}).to_string("bibtex").strip()
    raise ExtensionError(f"no BibTeX entry {key!r} in {[str(p) for p in bib_paths]}")


class CitationDirective(SphinxDirective):
    """``{emt-citation} bibtex|apa``: the book's citation, converted from CITATION.cff."""

    required_arguments = 1

    def run(self):
        cff = Path(self.env.srcdir) / "CITATION.cff"
        self.env.note_dependency(str(cff))
        try:
            text = book_citation(cff, self.arguments[0])
        except ValueError as error:
            raise self.error(str(error)) from error
        if self.arguments[0] == "bibtex":
            return [nodes.literal_block(text, text, language="bibtex")]
        # APA is a sentence: a paragraph that wraps, its address a link
        paragraph = nodes.paragraph(classes=["emt-citation-apa"])
        before, _, url = text.rpartition(" ")
        if "://" in url:
            paragraph += [nodes.Text(before + " "), nodes.reference(url, url, refuri=url)]
        else:
            paragraph += nodes.Text(text)
        return [nodes.block_quote("", paragraph)]


class BibtexEntryDirective(SphinxDirective):
    """``{emt-bibtex} key``: one entry of the book's references.bib (bibtex_bibfiles)."""

    required_arguments = 1

    def run(self):
        paths = [Path(self.env.srcdir) / f for f in self.config.bibtex_bibfiles]
        for path in paths:
            self.env.note_dependency(str(path))
        text = bibtex_entry(paths, self.arguments[0])
        return [nodes.literal_block(text, text, language="bibtex")]


def executed_notebook(app, pagename: str) -> Path | None:
    """myst-nb's executed copy of a chapter (with outputs), if this build executed it."""
    path = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    return path if path.is_file() else None


def _offer_executed_notebook(app, pagename, context) -> None:
    """Point the download menu's ".ipynb" entry of a chapter at its executed copy (item 8)."""
    if context.get("page_source_suffix") != ".ipynb":
        return
    source = executed_notebook(app, pagename)
    if source is None:
        raise ExtensionError(f"{pagename}: no executed notebook in jupyter_execute/ to offer")
    target = Path(app.outdir) / "_notebooks" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    button = {
        "type": "link",
        "url": f"{context['pathto']('_notebooks', 1)}/{pagename}.ipynb",
        "text": ".ipynb",
        "tooltip": "Download the notebook with its outputs",
        "icon": "fas fa-code",
        "label": "download-executed-notebook-button",
    }
    for group in context.get("header_buttons", []):
        if group.get("label") == "download-buttons":
            group["buttons"] = [button] + [
                b for b in group["buttons"] if b.get("label") != "download-source-button"
            ]
            return
    raise ExtensionError(f"{pagename}: the theme offers no download menu to put the notebook in")


def _js_key(js) -> tuple:
    # Sphinx re-adds registry scripts with filename "" where they were first added with None.
    filename = getattr(js, "filename", js) or ""
    attributes = getattr(js, "attributes", {})
    return (
        str(filename),
        tuple(sorted((k, str(v)) for k, v in attributes.items() if k != "priority")),
    )


def _page_context(app, pagename, templatename, context, doctree) -> None:
    _offer_executed_notebook(app, pagename, context)
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    body = context.get("body", "")
    if CDN_FONT_AWESOME.search(body):
        context["body"] = CDN_FONT_AWESOME.sub("", body)
    if WIDGET_VIEW_MIME in body:
        app.add_js_file(None, body=REQUIRE_CONFIG_JS, priority=499)
        app.add_js_file(None, body=WIDGET_HELPERS_JS, priority=499)
    seen, unique = set(), []
    for js in sorted(scripts, key=lambda js: getattr(js, "priority", 500)):
        key = _js_key(js)
        if key not in seen:
            seen.add(key)
            unique.append(js)
    scripts[:] = unique  # in place: Sphinx restores its own list after the page


class ChapterStatusNode(nodes.General, nodes.Element):
    """Placeholder for the chapter status table, filled in once every chapter has run."""


class ChapterStatusDirective(SphinxDirective):
    """``{emt-chapter-status}``: the table of executed chapters (see the module docstring)."""

    def run(self):
        from myst_nb.sphinx_ import NbMetadataCollector

        # the key myst-nb uses to rewrite pages with execution tables when chapters were re-run
        NbMetadataCollector.set_doc_data(self.env, self.env.docname, "has_exec_table", True)
        return [ChapterStatusNode()]


def _reading_order(env) -> list[str]:
    order, seen = [], set()

    def walk(doc):
        for child in env.toctree_includes.get(doc, []):
            if child not in seen:
                seen.add(child)
                order.append(child)
                walk(child)

    walk(env.config.root_doc)
    return order


def _table(header: list[str], rows: list[list[nodes.Node]]) -> nodes.table:
    table = nodes.table(classes=["colwidths-auto"])
    group = nodes.tgroup(cols=len(header))
    table += group
    group += [nodes.colspec(colwidth=1) for _ in header]
    head, body = nodes.thead(), nodes.tbody()
    group += [head, body]
    head += nodes.row("", *[nodes.entry("", nodes.paragraph(text=h)) for h in header])
    for cells in rows:
        body += nodes.row("", *[nodes.entry("", nodes.paragraph("", "", c)) for c in cells])
    return table


def chapter_status(env, docname: str) -> list[nodes.Node]:
    from myst_nb.sphinx_ import NbMetadataCollector

    data = NbMetadataCollector.get_doc_data(env)
    version = build_facts(Path(env.srcdir))["emtlib_version"]
    rows, slow, total = [], [], 0.0
    for doc in _reading_order(env):
        run = data.get(doc, {}).get("exec_data")
        if not run:
            continue
        link = pending_xref(
            "",
            refdomain="std",
            reftype="doc",
            reftarget="/" + doc,
            refexplicit=True,
            refwarn=True,
            refdoc=docname,
        )
        link += nodes.inline(text=env.titles[doc].astext() if doc in env.titles else doc)
        runtime = run.get("runtime")
        total += runtime or 0.0
        if runtime is not None and runtime > BUDGET_S:
            slow.append(env.titles[doc].astext() if doc in env.titles else doc)
        rows.append(
            [
                link,
                nodes.Text("-" if runtime is None else f"{runtime:.1f}"),
                nodes.Text("passed" if run.get("succeeded") else "failed"),
                nodes.literal(text=version),
            ]
        )
    if not rows:
        return [nodes.paragraph(text="No chapter was executed in this build.")]
    table = _table(["Chapter", "Run time (s)", "Result", "emtlib"], rows)
    text = f"{len(rows)} chapters, {total:.1f} s of execution in all. "
    text += (
        f"Over the {BUDGET_S} s budget of a chapter in this build: {', '.join(slow)}."
        if slow
        else f"Every chapter ran within the {BUDGET_S} s budget."
    )
    return [table, nodes.paragraph(text=text)]


class ChapterStatusTransform(SphinxPostTransform):
    default_priority = 8  # before the references (10) are resolved, as myst-nb's own table

    def run(self, **kwargs) -> None:
        for node in list(self.document.findall(ChapterStatusNode)):
            node.replace_self(chapter_status(self.env, self.env.docname))


def setup(app):
    slice_kernel_polls()  # before myst-nb executes the first chapter, in this process
    app.add_node(ChapterStatusNode)
    app.add_directive("emt-chapter-status", ChapterStatusDirective)
    app.add_directive("emt-citation", CitationDirective)
    app.add_directive("emt-bibtex", BibtexEntryDirective)
    app.add_post_transform(ChapterStatusTransform)
    app.connect("config-inited", _config_inited)
    # after myst-nb (500) has added the widget scripts and Sphinx the MathJax script
    app.connect("html-page-context", _page_context, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
