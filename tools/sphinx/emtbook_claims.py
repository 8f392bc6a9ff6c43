"""The claims ledger: every quantitative claim of the paper, where the book tests it, and the verdict.

The ledger is ``book/claims.yaml``, assembled from one file per chapter by ``tools/claims.py``; the
appendix page ``book/claims.md`` shows it through the directives ``{emt-claims}`` and
``{emt-figure-map}`` of the book's Sphinx extension (emtbook_sphinx.py). This module holds what
the extension, the assembling script and the tests share: the schema, the rule grammar, and the
MyST text of the two tables. It needs only PyYAML.

**A claim** (a mapping; unknown fields are errors, so a misspelt field is caught):

``id``
    unique, letters, digits and ``_.-``;
``chapter``
    the chapter that tests it: ``book/<chapter>.ipynb`` glues its ``key`` (the assembling script
    fills it in from the chapter file's name);
``claim``
    one sentence: what the paper says, with its number;
``where_in_paper``
    ``"Table 1"``, ``"Sec. 4.2"``, ``"Fig. 3"``...;
``paper``
    the paper's number as printed, or a short statement;
``key``
    the glue key of the chapter's value (``glue(key, float(value), display=False)``), required
    unless the verdict is "not testable";
``label``
    the MyST label ``(label)=`` of the section that tests it, required unless "not testable";
``verdict``
    ``reproduced``, ``differs`` or ``not testable``;
``rule``
    how the verdict follows from the numbers (below), required unless "not testable": the verdict
    is "reproduced" when the rule holds for the chapter's value and "differs" when it does not;
``why``
    one sentence, required when the verdict is "differs" or "not testable";
``measure``
    optional, what ``ours`` is in words when the rule alone does not say it (``"the number of the
    3 seeds whose best accuracy is within 0.05 of the paper's"``); shown with the rule;
``format``
    optional format spec of the value on the page (default ``.4g``).

**A rule** is a comparison of arithmetic on ``ours`` (the chapter's glued value, which every rule
must use) and ``paper`` (the paper's number, when ``paper`` is one), with numbers, ``+ - * /``,
parentheses, ``|x|`` or ``abs(x)``, ``log10(x)``; comparisons ``< <= > >= ==``, chained
(``0.9 <= ours <= 1``) and joined by ``and``/``or``. Examples: ``|ours - paper| <= 0.002`` (a
tolerance), ``ours < 0.01`` (a direction), ``|log10(ours / paper)| <= 1`` (the same order of
magnitude), ``ours == 36`` (a count).

**A figure** of the paper (the figure map, a mapping): ``paper`` (``"Fig. 2b"``), ``shows`` (one
sentence), ``chapter``, ``relation`` (``reproduces``, ``replaces`` or ``not reproduced``),
``label`` (the MyST label of the book's figure or section, required unless "not reproduced") and
``why`` (required unless "reproduces").

The ledger file is a mapping ``{claims: [...], figures: [...]}``; a chapter file may also be a bare
list of claims.
"""

from __future__ import annotations

import ast
import math
import re
from pathlib import Path

import yaml

VERDICTS = ("reproduced", "differs", "not testable")
RELATIONS = ("reproduces", "replaces", "not reproduced")
DEFAULT_FORMAT = ".4g"

#: The fields of a claim, in the order the ledger file lists them.
CLAIM_FIELDS = (
    "id",
    "chapter",
    "claim",
    "where_in_paper",
    "paper",
    "key",
    "label",
    "verdict",
    "rule",
    "why",
    "measure",
    "format",
)
#: The fields of a figure, in the order the ledger file lists them.
FIGURE_FIELDS = ("paper", "shows", "chapter", "relation", "label", "why")
ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
FORMAT = re.compile(r"[<>=^]?[+\- ]?#?0?\d*[,_]?(\.\d+)?[eEfFgGn%d]")


class LedgerError(ValueError):
    """A ledger that does not follow the schema; the message names the file and the entry."""


class RuleError(ValueError):
    """A rule outside the grammar of the module docstring."""


# --------------------------------------------------------------------------------------------
# Reading YAML: duplicate keys are errors
# --------------------------------------------------------------------------------------------
class _StrictLoader(yaml.SafeLoader):
    pass


def _mapping(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def read_yaml(path: Path):
    """The YAML of ``path``; a LedgerError naming the file for unreadable YAML or a duplicate key."""
    try:
        return yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_StrictLoader)
    except (OSError, yaml.YAMLError) as error:
        raise LedgerError(f"{path}: {error}") from error


# --------------------------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------------------------
_COMPARE = {
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
    ast.Eq: lambda a, b: a == b,
}
_ARITHMETIC = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
}
_FUNCTIONS = {"abs": abs, "log10": math.log10}


def parse_rule(rule: str) -> ast.Expression:
    """The rule as a checked Python expression tree (``|x|`` becomes ``abs(x)``); RuleError if it
    is outside the grammar, is not a comparison, or does not use ``ours``."""
    if not isinstance(rule, str) or not rule.strip():
        raise RuleError(f"a rule is a non-empty string, got {rule!r}")
    text = rule.strip()
    for _ in range(text.count("|") // 2):
        text = re.sub(r"\|([^|]+)\|", r"abs(\1)", text, count=1)
    if "|" in text:
        raise RuleError(f"unmatched '|' in rule {rule!r}")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as error:
        raise RuleError(f"rule {rule!r} is not an expression: {error.msg}") from None
    if not isinstance(tree.body, (ast.Compare, ast.BoolOp)):
        raise RuleError(f"rule {rule!r} must be a comparison (<, <=, >, >=, ==)")
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.add(node.id)
        _check_node(node, rule)
    if "ours" not in names:
        raise RuleError(f"rule {rule!r} does not use `ours`: it could not fail")
    return tree


def _check_node(node, rule):
    allowed = (
        ast.Expression,
        ast.BoolOp,
        ast.And,
        ast.Or,
        ast.Compare,
        ast.BinOp,
        ast.UnaryOp,
        ast.USub,
        ast.UAdd,
        ast.Constant,
        ast.Name,
        ast.Call,
        ast.Load,
        *_COMPARE,
        *_ARITHMETIC,
    )
    if not isinstance(node, allowed):
        raise RuleError(f"rule {rule!r}: {type(node).__name__} is not part of the rule grammar")
    if isinstance(node, ast.Constant) and (
        isinstance(node.value, bool) or not isinstance(node.value, (int, float))
    ):
        raise RuleError(f"rule {rule!r}: {node.value!r} is not a number")
    if isinstance(node, ast.Name) and node.id not in ("ours", "paper", *_FUNCTIONS):
        raise RuleError(f"rule {rule!r}: unknown name {node.id!r} (ours, paper, abs, log10)")
    if isinstance(node, ast.Call) and (
        not isinstance(node.func, ast.Name)
        or node.func.id not in _FUNCTIONS
        or len(node.args) != 1
        or node.keywords
    ):
        raise RuleError(f"rule {rule!r}: only abs(x) and log10(x) may be called")


def rule_uses_paper(rule: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == "paper" for n in ast.walk(parse_rule(rule)))


def evaluate_rule(rule: str, ours: float, paper: float | None = None) -> bool:
    """Whether the rule holds for the chapter's value ``ours`` (and the paper's number)."""
    tree = parse_rule(rule)
    values = {"ours": float(ours), "paper": paper}

    def value(node):
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            if values.get(node.id) is None:
                raise RuleError(f"rule {rule!r} uses `{node.id}`, which has no number")
            return values[node.id]
        if isinstance(node, ast.UnaryOp):
            return -value(node.operand) if isinstance(node.op, ast.USub) else value(node.operand)
        if isinstance(node, ast.BinOp):
            return _ARITHMETIC[type(node.op)](value(node.left), value(node.right))
        if isinstance(node, ast.Call):
            return _FUNCTIONS[node.func.id](value(node.args[0]))
        if isinstance(node, ast.Compare):
            left = value(node.left)
            for op, right_node in zip(node.ops, node.comparators):
                right = value(right_node)
                if not _COMPARE[type(op)](left, right):
                    return False
                left = right
            return True
        if isinstance(node, ast.BoolOp):
            results = [value(v) for v in node.values]
            return all(results) if isinstance(node.op, ast.And) else any(results)
        raise RuleError(f"rule {rule!r}: cannot evaluate {type(node).__name__}")

    try:
        return bool(value(tree.body))
    except (ZeroDivisionError, ValueError) as error:  # log10 of a non-positive number
        if isinstance(error, RuleError):
            raise
        raise RuleError(f"rule {rule!r} with ours = {ours}, paper = {paper}: {error}") from None


def paper_number(paper) -> float | None:
    """The paper's value as a number, when it is one ("0.0022", 0.0022, "1e-3"), else None."""
    if isinstance(paper, bool):
        return None
    if isinstance(paper, (int, float)):
        return float(paper)
    try:
        return float(str(paper).strip())
    except ValueError:
        return None


def verdict_of(claim: dict, ours: float) -> str:
    """The verdict a claim's rule gives for the chapter's value ``ours``."""
    holds = evaluate_rule(claim["rule"], ours, paper_number(claim.get("paper")))
    return "reproduced" if holds else "differs"


def numeric_value(text: str) -> float:
    """A glued value (its text/plain) as a number; ValueError saying how to glue one otherwise."""
    try:
        value = ast.literal_eval(text.strip())
    except (SyntaxError, ValueError):
        value = None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ValueError(
            f"glued value {text!r} is not a number: glue a Python number, "
            "glue(key, float(value), display=False)"
        )
    return float(value)


# --------------------------------------------------------------------------------------------
# Schema
# --------------------------------------------------------------------------------------------
def _text(entry, field, where, required=True):
    value = entry.get(field)
    if value is None:
        if required:
            raise LedgerError(f"{where}: field {field!r} is required")
        return None
    if field == "paper" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if not isinstance(value, str) or not value.strip():
        raise LedgerError(f"{where}: field {field!r} must be a non-empty string, got {value!r}")
    return value


def _where(source, kind, index, entry) -> str:
    name = entry.get("id") or entry.get("paper") if isinstance(entry, dict) else None
    return f"{source}, {kind} {index + 1}" + (f" ({name!r})" if name else "")


def check_claim(entry, where: str, chapters: set[str] | None = None) -> dict:
    """One claim, checked against the schema (module docstring); LedgerError naming ``where``."""
    if not isinstance(entry, dict):
        raise LedgerError(f"{where}: a claim is a mapping of fields, got {entry!r}")
    unknown = sorted(set(entry) - set(CLAIM_FIELDS))
    if unknown:
        raise LedgerError(
            f"{where}: unknown field(s) {unknown}; a claim has {sorted(CLAIM_FIELDS)}"
        )
    for field in ("id", "chapter", "claim", "where_in_paper", "paper", "verdict"):
        _text(entry, field, where)
    if not ID.fullmatch(entry["id"]):
        raise LedgerError(f"{where}: id {entry['id']!r} may hold letters, digits and _.- only")
    if not NAME.fullmatch(entry["chapter"]):
        raise LedgerError(f"{where}: chapter {entry['chapter']!r} is not a chapter name")
    if chapters is not None and entry["chapter"] not in chapters:
        raise LedgerError(
            f"{where}: chapter {entry['chapter']!r} is not a chapter of the book "
            f"({', '.join(sorted(chapters))})"
        )
    verdict = entry["verdict"]
    if verdict not in VERDICTS:
        raise LedgerError(f"{where}: verdict {verdict!r} must be one of {list(VERDICTS)}")
    testable = verdict != "not testable"
    for field in ("key", "label", "rule"):
        _text(entry, field, where, required=testable)
    _text(entry, "why", where, required=verdict in ("differs", "not testable"))
    _text(entry, "measure", where, required=False)
    for field in ("key", "label"):
        if entry.get(field) is not None and not NAME.fullmatch(entry[field]):
            raise LedgerError(f"{where}: {field} {entry[field]!r} is not a name")
    if entry.get("rule") is not None:
        try:
            uses_paper = rule_uses_paper(entry["rule"])
        except RuleError as error:
            raise LedgerError(f"{where}: {error}") from None
        if uses_paper and paper_number(entry["paper"]) is None:
            raise LedgerError(
                f"{where}: the rule uses `paper`, but paper {entry['paper']!r} is not a number; "
                "write the paper's number into the rule instead"
            )
        if entry.get("key") is None:
            raise LedgerError(f"{where}: a rule needs the key of the value it tests")
    fmt = entry.get("format")
    if fmt is not None and (not isinstance(fmt, str) or not FORMAT.fullmatch(fmt)):
        raise LedgerError(f"{where}: format {fmt!r} is not a number format such as '.4f'")
    return entry


def check_figure(entry, where: str, chapters: set[str] | None = None) -> dict:
    """One entry of the figure map, checked against the schema; LedgerError naming ``where``."""
    if not isinstance(entry, dict):
        raise LedgerError(f"{where}: a figure is a mapping of fields, got {entry!r}")
    unknown = sorted(set(entry) - set(FIGURE_FIELDS))
    if unknown:
        raise LedgerError(
            f"{where}: unknown field(s) {unknown}; a figure has {sorted(FIGURE_FIELDS)}"
        )
    for field in ("paper", "shows", "chapter", "relation"):
        _text(entry, field, where)
    if entry["relation"] not in RELATIONS:
        raise LedgerError(
            f"{where}: relation {entry['relation']!r} must be one of {list(RELATIONS)}"
        )
    if chapters is not None and entry["chapter"] not in chapters:
        raise LedgerError(f"{where}: chapter {entry['chapter']!r} is not a chapter of the book")
    _text(entry, "label", where, required=entry["relation"] != "not reproduced")
    _text(entry, "why", where, required=entry["relation"] != "reproduces")
    if entry.get("label") is not None and not NAME.fullmatch(entry["label"]):
        raise LedgerError(f"{where}: label {entry['label']!r} is not a name")
    return entry


def check_ledger(data, source: str, chapters: set[str] | None = None) -> dict:
    """The ledger ``{claims: [...], figures: [...]}`` checked entry by entry; ids must be unique.
    ``chapters``, when given, are the chapter names a claim may name."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise LedgerError(f"{source}: the ledger is a mapping with 'claims' and 'figures'")
    unknown = sorted(set(data) - {"claims", "figures"})
    if unknown:
        raise LedgerError(f"{source}: unknown top-level field(s) {unknown} (claims, figures)")
    claims = data.get("claims") or []
    figures = data.get("figures") or []
    for kind, entries in (("claims", claims), ("figures", figures)):
        if not isinstance(entries, list):
            raise LedgerError(f"{source}: '{kind}' must be a list")
    seen = {}
    for index, entry in enumerate(claims):
        where = _where(source, "claim", index, entry)
        check_claim(entry, where, chapters)
        if entry["id"] in seen:
            raise LedgerError(f"{where}: id {entry['id']!r} is also claim {seen[entry['id']]}")
        seen[entry["id"]] = index + 1
    for index, entry in enumerate(figures):
        check_figure(entry, _where(source, "figure", index, entry), chapters)
    return {"claims": claims, "figures": figures}


def load_ledger(path: Path, chapters: set[str] | None = None) -> dict:
    """``book/claims.yaml``, read strictly and checked (LedgerError naming the entry)."""
    return check_ledger(read_yaml(path), str(path), chapters)


def book_chapters(book: Path) -> set[str]:
    """The chapter names of a book folder: its notebooks."""
    return {p.stem for p in Path(book).glob("*.ipynb")}


# --------------------------------------------------------------------------------------------
# The page: MyST text
# --------------------------------------------------------------------------------------------
def verdict_counts(claims: list[dict]) -> dict[str, int]:
    return {v: sum(c["verdict"] == v for c in claims) for v in VERDICTS}


def counts_sentence(claims: list[dict]) -> str:
    if not claims:
        return "The ledger holds no claims yet."
    counts = verdict_counts(claims)
    words = {"reproduced": "reproduced", "differs": "differ", "not testable": "not testable"}
    parts = [f"{counts[v]} {words[v]}" for v in VERDICTS]
    noun = "claim" if len(claims) == 1 else "claims"
    return f"{len(claims)} {noun}: {parts[0]}, {parts[1]}, {parts[2]}."


def _cell(text) -> str:
    return str(text).replace("\n", " ").strip()


def claims_myst(claims: list[dict]) -> str:
    """The claims table (a MyST list-table) and the counts by verdict."""
    lines = [counts_sentence(claims), ""]
    if not claims:
        lines.append(
            "No claim has been entered yet: each chapter adds the claims it tests, with the glued "
            "value that tests each one."
        )
        return "\n".join(lines)
    lines += [
        "````{list-table}",
        ":header-rows: 1",
        ":widths: 36 16 10 38",
        ":class: emt-claims",
        "",
        "* - Claim (where the paper makes it; where the book tests it)",
        "  - Paper",
        "  - Ours",
        "  - Verdict (its rule)",
    ]
    for c in claims:
        fmt = c.get("format") or DEFAULT_FORMAT
        ours = f"{{glue:text}}`{c['chapter']}.ipynb::{c['key']}:{fmt}`" if c.get("key") else "—"
        where = f"{{doc}}`{c['chapter']}`"
        if c.get("label"):  # link text of its own: a section title may hold math
            where += f", {{ref}}`this section <{c['label']}>`"
        verdict = f"**{c['verdict']}**"
        if c.get("rule"):
            verdict += f" (`{c['rule']}`"
            verdict += f"; ours: {_cell(c['measure'])})" if c.get("measure") else ")"
        if c.get("why"):
            verdict += f": {_cell(c['why'])}"
        lines += [
            f"* - ({claim_target(c)})=",
            "",
            f"    {_cell(c['claim'])} ({_cell(c['where_in_paper'])}; tested in {where})",
            f"  - {_cell(c['paper'])}",
            f"  - {ours}",
            f"  - {verdict}",
        ]
    lines.append("````")
    return "\n".join(lines)


def claim_target(claim: dict) -> str:
    """The label of a claim's row (``claim-<id>``), so a page can link to one claim."""
    return "claim-" + claim["id"].lower().replace("_", "-").replace(".", "-")


def figures_myst(figures: list[dict]) -> str:
    """The figure map (a MyST list-table): each figure of the paper and the book's answer."""
    if not figures:
        return "No figure of the paper has been mapped yet."
    counts = {r: sum(f["relation"] == r for f in figures) for r in RELATIONS}
    summary = (
        f"{len(figures)} figures of the paper: {counts['reproduces']} reproduced, "
        f"{counts['replaces']} replaced by another figure, {counts['not reproduced']} not "
        "reproduced."
    )
    lines = [
        summary,
        "",
        "````{list-table}",
        ":header-rows: 1",
        ":class: emt-figure-map",
        "",
        "* - Figure of the paper",
        "  - What it shows",
        "  - In the book",
        "  - How",
    ]
    for f in figures:
        where = f"{{doc}}`{f['chapter']}`"
        if f.get("label"):  # link text of its own: a section title may hold math
            where += f", {{ref}}`this section <{f['label']}>`"
        how = f["relation"] + (f": {_cell(f['why'])}" if f.get("why") else "")
        lines += [
            f"* - {_cell(f['paper'])}",
            f"  - {_cell(f['shows'])}",
            f"  - {where}",
            f"  - {how}",
        ]
    lines.append("````")
    return "\n".join(lines)
