"""The claims ledger (book/claims.md): its schema, its rule grammar, the assembling script
(tools/claims.py) and the directives of the book's Sphinx extension, on a small book of its own.

The small book has one chapter that glues a number and a ledger page with ``{emt-claims}``; it is
built strictly (``-W -n``) as the real book is. A correct ledger builds and shows the executed
value (checked with the same code as the test after the real build, tests/book/ledger_check.py);
a verdict that does not follow from its rule, a key the chapter does not glue, and a malformed
entry each fail the build with a message that names the claim.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools" / "sphinx"))
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "tests" / "book"))

import claims as claims_tool  # tools/claims.py
import emtbook_claims as ledger
from ledger_check import formatted, ledger_problems

CLAIM = {
    "id": "t4-err",
    "chapter": "training",
    "claim": "The spectral error of T4 at 128 units is 0.0022.",
    "where_in_paper": "Table 1",
    "paper": "0.0022",
    "key": "t4_err",
    "label": "spectrum",
    "verdict": "reproduced",
    "rule": "|ours - paper| <= 0.002",
}


# --------------------------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("rule", "ours", "paper", "holds"),
    [
        ("|ours - paper| <= 0.002", 0.0025, 0.0022, True),
        ("|ours - paper| <= 0.0001", 0.0025, 0.0022, False),
        ("abs(ours - paper) / paper <= 0.5", 0.003, 0.0022, True),
        ("ours < 0.01", 0.02, None, False),
        ("0.9 <= ours <= 1", 0.95, None, True),
        ("0.9 <= ours <= 1", 1.5, None, False),
        ("|log10(ours / paper)| <= 1", 0.05, 0.0022, False),
        ("|log10(ours / paper)| <= 1", 0.01, 0.0022, True),
        ("ours == 36", 36, None, True),
        ("ours > 0.99 and ours <= 1 or ours == -1", -1, None, True),
        ("-ours < 0", 2, None, True),
    ],
)
def test_rules_evaluate(rule, ours, paper, holds):
    assert ledger.evaluate_rule(rule, ours, paper) is holds


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("", "non-empty"),
        ("ours", "must be a comparison"),
        ("paper > 0", "does not use `ours`"),
        ("ours.real > 0", "Attribute"),
        ("__import__('os') == ours", "only abs"),
        ("exp(ours) > 1", "only abs"),
        ("ours > pi", "unknown name"),
        ("ours > 'a'", "not a number"),
        ("ours > True", "not a number"),
        ("ours ** 2 > 1", "Pow"),
        ("|ours > 1", "unmatched"),
        ("ours >", "not an expression"),
        ("ours != 1", "NotEq"),
        ("[ours] == [1]", "List"),
    ],
)
def test_rules_outside_the_grammar_are_refused(rule, message):
    with pytest.raises(ledger.RuleError, match=message.replace("(", r"\(")):
        ledger.parse_rule(rule)


def test_a_rule_on_a_missing_number_or_a_bad_logarithm_is_an_error():
    with pytest.raises(ledger.RuleError, match="uses `paper`"):
        ledger.evaluate_rule("ours < paper", 1.0, None)
    with pytest.raises(ledger.RuleError, match="math domain"):
        ledger.evaluate_rule("log10(ours) < 0", -1.0)


def test_glued_values_must_be_numbers():
    assert ledger.numeric_value("0.0025") == 0.0025
    assert ledger.numeric_value(" 36 ") == 36.0
    for text in ("np.float64(0.0025)", "'0.1'", "True", "nan", "[1]"):
        with pytest.raises(ValueError, match="float\\(value\\)"):
            ledger.numeric_value(text)


# --------------------------------------------------------------------------------------------
# Schema
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"verdikt": "reproduced"}, "unknown field"),
        ({"claim": None}, "'claim' is required"),
        ({"verdict": "maybe"}, "must be one of"),
        ({"verdict": "differs"}, "'why' is required"),
        ({"rule": None}, "'rule' is required"),
        ({"key": None}, "'key' is required"),
        ({"label": None}, "'label' is required"),
        ({"paper": "about 0.002"}, "not a number"),
        ({"rule": "ours = 1"}, "not an expression"),
        ({"id": "two words"}, "letters, digits"),
        ({"chapter": "appendix"}, "not a chapter of the book"),
        ({"format": "%.3f"}, "not a number format"),
        ({"claim": ""}, "non-empty string"),
        ({"measure": 3}, "'measure' must be a non-empty string"),
    ],
)
def test_a_malformed_claim_is_named(change, message):
    entry = {**CLAIM, **change}
    entry = {k: v for k, v in entry.items() if v is not None}
    data = {"claims": [dict(CLAIM, id="first"), entry]}
    with pytest.raises(ledger.LedgerError, match=message) as caught:
        ledger.check_ledger(data, "claims.yaml", chapters={"training", "basis"})
    assert "claims.yaml, claim 2" in str(caught.value), "the message names the entry"


def test_not_testable_claims_need_only_a_reason():
    entry = {k: CLAIM[k] for k in ("id", "chapter", "claim", "where_in_paper", "paper")}
    data = {"claims": [{**entry, "verdict": "not testable", "why": "no code"}]}
    assert ledger.check_ledger(data, "x")["claims"][0]["why"] == "no code"
    with pytest.raises(ledger.LedgerError, match="'why' is required"):
        ledger.check_ledger({"claims": [{**entry, "verdict": "not testable"}]}, "x")


def test_ids_are_unique_and_duplicate_yaml_keys_are_refused(tmp_path):
    with pytest.raises(ledger.LedgerError, match="also claim 1"):
        ledger.check_ledger({"claims": [CLAIM, CLAIM]}, "x")
    path = tmp_path / "claims.yaml"
    path.write_text("claims:\n- id: a\n  id: b\n", encoding="utf-8")
    with pytest.raises(ledger.LedgerError, match="duplicate key 'id'"):
        ledger.load_ledger(path)
    path.write_text("claims: [\n", encoding="utf-8")
    with pytest.raises(ledger.LedgerError, match=str(path)):
        ledger.load_ledger(path)


def test_figures_follow_their_schema():
    figure = {
        "paper": "Fig. 3",
        "shows": "spectra of W against Φ",
        "chapter": "training",
        "relation": "reproduces",
        "label": "spectrum",
    }
    assert ledger.check_ledger({"figures": [figure]}, "x")["figures"] == [figure]
    for change, message in (
        ({"relation": "replaces"}, "'why' is required"),
        ({"relation": "copies"}, "must be one of"),
        ({"label": None, "relation": "not reproduced", "why": "no data"}, None),
        ({"label": None}, "'label' is required"),
        ({"size": 3}, "unknown field"),
    ):
        entry = {k: v for k, v in {**figure, **change}.items() if v is not None}
        if message is None:
            ledger.check_ledger({"figures": [entry]}, "x")
        else:
            with pytest.raises(ledger.LedgerError, match=message):
                ledger.check_ledger({"figures": [entry]}, "x")


def test_values_are_formatted_as_the_page_shows_them():
    assert formatted(12.0, "d") == "12" and formatted(12.0, ",d") == "12"
    assert formatted(0.00046, ".4f") == "0.0005" and formatted(1234.0, ".4g") == "1234"


def test_the_page_text_links_pastes_and_counts():
    differs = {
        **CLAIM,
        "id": "t1-err",
        "verdict": "differs",
        "why": "the rule fails",
        "format": ".3f",
    }
    text = ledger.claims_myst([CLAIM, differs])
    assert "{glue:text}`training.ipynb::t4_err:.4g`" in text
    assert "{glue:text}`training.ipynb::t4_err:.3f`" in text
    assert "{doc}`training`, {ref}`this section <spectrum>`" in text and "(claim-t4-err)=" in text
    assert "2 claims: 1 reproduced, 1 differ, 0 not testable." in text
    assert "**differs** (`|ours - paper| <= 0.002`): the rule fails" in text
    measured = {**CLAIM, "id": "seeds", "rule": "ours == 3", "measure": "seeds that agree"}
    assert "(`ours == 3`; ours: seeds that agree)" in ledger.claims_myst([measured])
    assert "holds no claims" in ledger.claims_myst([])
    assert "No figure" in ledger.figures_myst([])


def test_the_book_ledger_follows_the_schema():
    checked = ledger.load_ledger(ROOT / "book" / "claims.yaml", ledger.book_chapters(ROOT / "book"))
    assert set(checked) == {"claims", "figures"}
    page = (ROOT / "book" / "claims.md").read_text(encoding="utf-8")
    assert "```{emt-claims} claims.yaml" in page and "```{emt-figure-map} claims.yaml" in page


# --------------------------------------------------------------------------------------------
# tools/claims.py
# --------------------------------------------------------------------------------------------
def test_assembling_fills_chapters_orders_them_and_names_problems(tmp_path, capsys):
    chapters = sorted(ledger.book_chapters(ROOT / "book"))
    first, last = claims_tool.reading_order()[0], claims_tool.reading_order()[-1]
    entry = {k: v for k, v in CLAIM.items() if k != "chapter"}
    (tmp_path / f"{last}.yaml").write_text(yaml.safe_dump([dict(entry, id="late")]))
    (tmp_path / f"{first}.yaml").write_text(
        yaml.safe_dump({"claims": [dict(entry, id="early")], "figures": []})
    )
    text = claims_tool.assemble(sorted(tmp_path.glob("*.yaml")))
    assembled = yaml.safe_load(text)
    assert [c["id"] for c in assembled["claims"]] == ["early", "late"], "in reading order"
    assert [c["chapter"] for c in assembled["claims"]] == [first, last]
    assert text.startswith("# The claims ledger")
    path = tmp_path / "out" / "claims.yaml"
    path.parent.mkdir()
    path.write_text(text)
    assert ledger.load_ledger(path, set(chapters))["claims"][0]["id"] == "early"

    kept = yaml.safe_load(claims_tool.assemble([tmp_path / f"{first}.yaml"], only_glued=True))
    assert kept["claims"] == [], "the chapter does not glue the key"
    assert "left out claim 'early'" in capsys.readouterr().err

    (tmp_path / f"{last}.yaml").write_text(yaml.safe_dump([dict(entry, id="early")]))
    with pytest.raises(ledger.LedgerError, match="also in"):
        claims_tool.assemble(sorted(tmp_path.glob("*.yaml")))
    (tmp_path / f"{last}.yaml").write_text(yaml.safe_dump([dict(entry, chapter=first)]))
    with pytest.raises(ledger.LedgerError, match=f"in the file of chapter '{last}'"):
        claims_tool.assemble([tmp_path / f"{last}.yaml"])
    (tmp_path / f"{last}.yaml").write_text(yaml.safe_dump([dict(entry, verdict="sure")]))
    with pytest.raises(ledger.LedgerError, match=f"{last}.yaml, claim 1"):
        claims_tool.assemble([tmp_path / f"{last}.yaml"])
    (tmp_path / "nochapter.yaml").write_text("[]")
    with pytest.raises(ledger.LedgerError, match="no chapter book/nochapter.ipynb"):
        claims_tool.assemble([tmp_path / "nochapter.yaml"])
    assert claims_tool.main(["check", str(ROOT / "book" / "claims.yaml")]) == 0


# --------------------------------------------------------------------------------------------
# The directives, in a small book built strictly
# --------------------------------------------------------------------------------------------
CONF = f"""
import sys
sys.path.insert(0, {str(ROOT / "tools" / "sphinx")!r})
project = "ledger test"
extensions = ["myst_nb", "emtbook_sphinx"]
html_theme = "sphinx_book_theme"
nb_execution_mode = "force"
nb_execution_raise_on_error = True
exclude_patterns = ["_build", "*.yaml"]
"""
PAGE = """# Claims

```{emt-claims} claims.yaml
```

```{emt-figure-map} claims.yaml
```
"""


def _small_book(folder: Path) -> Path:
    src = folder / "src"
    src.mkdir()
    (src / "conf.py").write_text(CONF)
    (src / "index.md").write_text("# Small book\n\n```{toctree}\nchapter\nclaims\n```\n")
    (src / "claims.md").write_text(PAGE)
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# Chapter\n\n(spectrum)=\n## The spectrum\n\nText."),
            nbformat.v4.new_code_cell(
                "from myst_nb import glue\nglue('t4_err', 0.0025, display=False)\n"
                "glue('word', 'high', display=False)"
            ),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    )
    nbformat.write(nb, src / "chapter.ipynb")
    return src


def _build(src: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-W", "-n", "--keep-going", "-q"]
        + [str(src), str(src.parent / "_build" / "html")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _write_ledger(src: Path, claims: list[dict], figures=()) -> None:
    (src / "claims.yaml").write_text(
        yaml.safe_dump({"claims": claims, "figures": list(figures)}, allow_unicode=True)
    )


def test_the_directives_build_a_ledger_that_fails_loudly(tmp_path):
    src = _small_book(tmp_path)
    claim = {**CLAIM, "chapter": "chapter", "format": ".4f"}
    figure = {
        "paper": "Fig. 3",
        "shows": "the spectrum",
        "chapter": "chapter",
        "relation": "reproduces",
        "label": "spectrum",
    }
    _write_ledger(src, [claim], [figure])
    done = _build(src)
    assert done.returncode == 0, done.stdout + done.stderr
    html = (tmp_path / "_build" / "html" / "claims.html").read_text(encoding="utf-8")
    assert "0.0025" in html and "1 figures of the paper: 1 reproduced" in html
    # the same check as after the real build: executed notebook, verdict, page
    executed = tmp_path / "_build" / "jupyter_execute"
    assert json.loads((executed / "chapter.glue.json").read_text())["t4_err"]
    assert ledger_problems(src / "claims.yaml", tmp_path / "_build", page="claims") == []

    wrong = {**claim, "id": "wrong", "rule": "ours < 0.001"}  # fails, yet says "reproduced"
    missing = {**claim, "id": "missing", "key": "t9_err"}
    words = {**claim, "id": "words", "key": "word"}
    _write_ledger(src, [claim, wrong, missing, words])
    done = _build(src)
    out = done.stdout + done.stderr
    assert done.returncode != 0
    assert "claim 'wrong': the verdict is 'reproduced', but the rule 'ours < 0.001'" in out, out
    assert "Glue reference 't9_err' not found in doc 'chapter'" in out, out
    assert "claim 'missing': chapter 'chapter' glues no key 't9_err'" in out, out
    assert "claim 'words': glued value" in out and "is not a number" in out, out
    found = "\n".join(ledger_problems(src / "claims.yaml", tmp_path / "_build", page="claims"))
    assert "claim 'wrong': verdict 'reproduced'" in found, found
    assert "claim 'missing': chapter 'chapter' glues no key 't9_err'" in found, found

    (src / "claims.yaml").write_text(
        textwrap.dedent(
            """\
            claims:
            - id: broken
              chapter: chapter
              claim: A claim without its verdict.
              where_in_paper: Table 1
              paper: '1'
            """
        )
    )
    done = _build(src)
    out = done.stdout + done.stderr
    assert done.returncode != 0
    assert "claim 1 ('broken'): field 'verdict' is required" in out, out
