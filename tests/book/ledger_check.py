"""Check the built claims ledger against the executed chapters.

Used by tests/book/test_claims_ledger.py (`make ledger`, after the build) and by tests/test_claims.py
on a small book of its own. For every claim of book/claims.yaml that names a key:

- the chapter was executed (myst-nb's copy in ``_build/jupyter_execute/``) and glued that key
  with a number (a Python int or float: ``glue(key, float(value), display=False)``); myst-nb
  itself refuses a key glued twice;
- the verdict follows from the claim's rule with that number (emtbook_claims.verdict_of);
- the built page shows exactly that number in the claim's row (formatted with the claim's
  ``format``), and the counts by verdict that the ledger gives.

Each function returns a list of problems (empty when all is well), so a test can show first that
each kind of problem is caught.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools" / "sphinx"))

import emtbook_claims  # the schema and rules the build uses


def glued_texts(executed: Path, chapter: str) -> dict[str, str] | None:
    """``{key: text/plain}`` of every value a chapter glued, as myst-nb recorded them when it
    executed the chapter: it writes the executed notebook to ``<executed>/<chapter>.ipynb`` and
    moves the values glued with ``display=False`` out of it into ``<chapter>.glue.json`` beside it
    (no such file: nothing was glued). None when the chapter was not executed."""
    if not (executed / f"{chapter}.ipynb").is_file():
        return None
    path = executed / f"{chapter}.glue.json"
    if not path.is_file():
        return {}
    glued = json.loads(path.read_text(encoding="utf-8"))
    texts = {}
    for key, output in glued.items():
        text = output.get("data", {}).get("text/plain")
        texts[key] = "".join(text) if isinstance(text, list) else text
    return texts


def executed_values(claims: list[dict], executed: Path) -> tuple[dict, list[str]]:
    """``{(chapter, key): number}`` of the executed chapters under ``executed`` (the folder of the
    claims page's executed siblings, e.g. _build/jupyter_execute/book), and the problems met."""
    values, problems, chapters = {}, [], {}
    for claim in claims:
        if claim.get("key") is None:
            continue
        chapter, key = claim["chapter"], claim["key"]
        if chapter not in chapters:
            chapters[chapter] = glued_texts(executed, chapter)
        glued = chapters[chapter]
        where = f"claim {claim['id']!r}"
        if glued is None:
            problems.append(f"{where}: no executed notebook {executed / chapter}.ipynb")
        elif key not in glued:
            problems.append(f"{where}: chapter {chapter!r} glues no key {key!r}")
        else:
            try:
                values[(chapter, key)] = emtbook_claims.numeric_value(glued[key] or "")
            except ValueError as error:
                problems.append(f"{where}: {error}")
    return values, problems


def verdict_problems(claims: list[dict], values: dict) -> list[str]:
    """Claims whose stated verdict does not follow from their rule with the executed value."""
    problems = []
    for claim in claims:
        if claim.get("rule") is None:
            continue
        ours = values.get((claim["chapter"], claim["key"]))
        if ours is None:
            continue  # reported by executed_values
        verdict = emtbook_claims.verdict_of(claim, ours)
        if verdict != claim["verdict"]:
            problems.append(
                f"claim {claim['id']!r}: verdict {claim['verdict']!r}, but {claim['rule']!r} "
                f"with ours = {ours!r} gives {verdict!r}"
            )
    return problems


def formatted(value: float, fmt: str) -> str:
    """The glued value as the page shows it: an integer format (``d``) takes the value as an int,
    as myst-nb does with the int the chapter glued."""
    if fmt.endswith("d") and float(value).is_integer():
        return format(int(value), fmt)
    return format(value, fmt)


def page_problems(claims: list[dict], values: dict, html: str) -> list[str]:
    """Differences between the built page and the ledger: a row per claim, in it the executed
    value as formatted (and nothing pasted for a claim without a key), the counts by verdict."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    problems = []
    text = " ".join(soup.get_text(" ").split())
    if emtbook_claims.counts_sentence(claims) not in text:
        problems.append(f"the page lacks {emtbook_claims.counts_sentence(claims)!r}")
    for claim in claims:
        where = f"claim {claim['id']!r}"
        anchor = soup.find(id=emtbook_claims.claim_target(claim))
        row = anchor.find_parent("tr") if anchor is not None else None
        if row is None:
            problems.append(
                f"{where}: no row on the page (id {emtbook_claims.claim_target(claim)})"
            )
            continue
        pasted = [s.get_text() for s in row.select("span.pasted-text")]
        if claim.get("key") is None:
            if pasted:
                problems.append(f"{where}: has no key, yet the page shows {pasted}")
            continue
        ours = values.get((claim["chapter"], claim["key"]))
        if ours is None:
            continue  # reported by executed_values
        expected = formatted(ours, claim.get("format") or emtbook_claims.DEFAULT_FORMAT)
        if pasted != [expected]:
            problems.append(f"{where}: the page shows {pasted}, the executed value is {expected}")
        if claim["verdict"] not in row.get_text(" "):
            problems.append(f"{where}: the row does not state the verdict {claim['verdict']!r}")
    return problems


def ledger_problems(ledger_path: Path, build: Path, page: str = "book/claims") -> list[str]:
    """Every problem of the built ledger: ``ledger_path`` (book/claims.yaml) against the build
    folder ``build`` (_build: executed notebooks in jupyter_execute/, pages in html/)."""
    ledger = emtbook_claims.load_ledger(
        ledger_path, emtbook_claims.book_chapters(ledger_path.parent)
    )
    claims = ledger["claims"]
    html_path = build / "html" / f"{page}.html"
    if not html_path.is_file():
        return [f"no built page {html_path}: build the book first"]
    folder = Path(page).parent
    values, problems = executed_values(claims, build / "jupyter_execute" / folder)
    problems += verdict_problems(claims, values)
    problems += page_problems(claims, values, html_path.read_text(encoding="utf-8"))
    return problems
