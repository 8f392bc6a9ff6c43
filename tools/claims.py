"""The claims ledger's file, book/claims.yaml: assembled from one file per chapter, and checked.

    python tools/claims.py assemble CLAIMS/*.yaml > book/claims.yaml
    python tools/claims.py assemble --only-glued CLAIMS/*.yaml > book/claims.yaml
    python tools/claims.py check book/claims.yaml

``assemble`` reads one YAML file per chapter, named after the chapter (``training.yaml`` holds the
claims that book/training.ipynb tests): a list of claims, or a mapping with ``claims`` and
``figures`` (the figure map). It fills in each entry's ``chapter``, puts the chapters in the
book's reading order (_toc.yml), checks the result against the ledger's schema
(tools/sphinx/emtbook_claims.py: the fields, the verdicts, the rule grammar) and writes it to
stdout. Every problem is reported with the file and the entry, and nothing is written. With
``--only-glued`` it leaves out, with a note on stderr, the claims whose chapter does not (yet)
glue their key; without it such a claim stays, and the build fails on its missing key.

``check`` checks a ledger file against the schema (the build does too, and the test after the
build checks every value against the executed chapters).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
sys.path.insert(0, str(ROOT / "tools" / "sphinx"))

import emtbook_claims as ledger  # next to the Sphinx extension, which uses it too

HEADER = """\
# The claims ledger of the book (book/claims.md): every quantitative claim of the paper that the
# book tests, and the map from the paper's figures to the book's. Assembled from one file per
# chapter by `python tools/claims.py assemble`; the schema is in tools/sphinx/emtbook_claims.py.
"""


def reading_order() -> list[str]:
    """The chapters (notebooks) of _toc.yml in reading order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])]
    return [Path(f).name for f in files if (ROOT / f"{f}.ipynb").is_file()]


def glued_keys(chapter: str) -> set[str]:
    """The keys a chapter glues: ``glue("key", ...)`` in its code cells."""
    path = BOOK / f"{chapter}.ipynb"
    if not path.is_file():
        return set()
    nb = json.loads(path.read_text(encoding="utf-8"))
    keys = set()
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            source = "".join(cell.get("source", []))
            keys |= set(re.findall(r"""glue\(\s*["']([^"']+)["']""", source))
    return keys


def read_chapter_file(path: Path) -> tuple[list, list]:
    """A chapter's claims and figures, each entry with its ``chapter`` (the file's name)."""
    data = ledger.read_yaml(path)
    if data is None:
        data = []
    if isinstance(data, list):
        data = {"claims": data}
    if not isinstance(data, dict):
        raise ledger.LedgerError(f"{path}: a list of claims, or a mapping with claims and figures")
    unknown = sorted(set(data) - {"claims", "figures"})
    if unknown:
        raise ledger.LedgerError(f"{path}: unknown top-level field(s) {unknown}")
    chapter = path.stem
    out = []
    for kind in ("claims", "figures"):
        entries = data.get(kind) or []
        if not isinstance(entries, list):
            raise ledger.LedgerError(f"{path}: '{kind}' must be a list")
        for index, entry in enumerate(entries):
            if isinstance(entry, dict):
                named = entry.setdefault("chapter", chapter)
                if named != chapter:
                    raise ledger.LedgerError(
                        f"{path}, {kind[:-1]} {index + 1}: chapter {named!r} in the file of "
                        f"chapter {chapter!r}"
                    )
        out.append(entries)
    return out[0], out[1]


def ordered(entry: dict, order: list[str]) -> dict:
    return {k: entry[k] for k in sorted(entry, key=order.index)}


def assemble(paths: list[Path], only_glued: bool = False, log=None) -> str:
    """The ledger's YAML text from the chapters' files (LedgerError naming the problem)."""
    order = {name: i for i, name in enumerate(reading_order())}
    chapters = ledger.book_chapters(BOOK)
    for path in paths:
        if path.stem not in chapters:
            raise ledger.LedgerError(f"{path}: no chapter book/{path.stem}.ipynb")
    claims, figures, first_seen = [], [], {}
    for path in sorted(paths, key=lambda p: (order.get(p.stem, len(order)), p.stem)):
        chapter_claims, chapter_figures = read_chapter_file(path)
        ledger.check_ledger(
            {"claims": chapter_claims, "figures": chapter_figures}, str(path), chapters
        )
        for claim in chapter_claims:
            if claim["id"] in first_seen:
                raise ledger.LedgerError(
                    f"{path}: claim id {claim['id']!r} is also in {first_seen[claim['id']]}"
                )
            first_seen[claim["id"]] = path
        claims += chapter_claims
        figures += chapter_figures
    checked = {"claims": claims, "figures": figures}
    if only_glued:
        kept = []
        for claim in checked["claims"]:
            if claim.get("key") is None or claim["key"] in glued_keys(claim["chapter"]):
                kept.append(claim)
            else:
                print(
                    f"left out claim {claim['id']!r}: book/{claim['chapter']}.ipynb does not glue "
                    f"{claim['key']!r}",
                    file=log or sys.stderr,
                )
        checked["claims"] = kept
    text = yaml.safe_dump(
        {
            "claims": [ordered(c, ledger.CLAIM_FIELDS) for c in checked["claims"]],
            "figures": [ordered(f, ledger.FIGURE_FIELDS) for f in checked["figures"]],
        },
        sort_keys=False,
        allow_unicode=True,
        width=100,
    )
    return HEADER + text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    join = verbs.add_parser("assemble", help="the ledger from one file per chapter, to stdout")
    join.add_argument("files", nargs="+", type=Path, help="<chapter>.yaml files")
    join.add_argument(
        "--only-glued",
        action="store_true",
        help="leave out the claims whose chapter does not glue their key",
    )
    check = verbs.add_parser("check", help="check a ledger file against the schema")
    check.add_argument("file", type=Path, nargs="?", default=BOOK / "claims.yaml")
    args = parser.parse_args(argv)
    try:
        if args.verb == "assemble":
            sys.stdout.write(assemble(args.files, args.only_glued))
        else:
            checked = ledger.load_ledger(args.file, ledger.book_chapters(BOOK))
            print(
                f"{args.file}: {ledger.counts_sentence(checked['claims'])} "
                f"{len(checked['figures'])} figures mapped."
            )
    except ledger.LedgerError as error:
        print(f"claims: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
