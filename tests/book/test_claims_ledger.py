"""The claims ledger after the build: every value on the page is the executed one, every verdict
follows from its rule (`make ledger`, after `make build`; see ledger_check.py).

    EMT_BOOK_BUILD=_build .venv/bin/python -m pytest tests/book

Without EMT_BOOK_BUILD (a plain `pytest tests`) the module is skipped: it needs a built book. Its
first test shows, on a small ledger of its own, that the check catches each kind of problem.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

BUILD_ENV = "EMT_BOOK_BUILD"
if not os.environ.get(BUILD_ENV):
    pytest.skip(
        f"the ledger check needs a built book: set {BUILD_ENV} (make ledger does)",
        allow_module_level=True,
    )

from ledger_check import executed_values, ledger_problems, page_problems, verdict_problems

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ[BUILD_ENV]).resolve()


def test_the_check_catches_wrong_ledgers(tmp_path):
    claim = {
        "id": "c1",
        "chapter": "ch",
        "claim": "x",
        "where_in_paper": "Table 1",
        "paper": "0.0022",
        "key": "err",
        "label": "sec",
        "verdict": "reproduced",
        "rule": "|ours - paper| <= 0.001",
    }
    (tmp_path / "ch.ipynb").write_text(json.dumps({"cells": []}))
    (tmp_path / "ch.glue.json").write_text(
        json.dumps(
            {k: {"data": {"text/plain": v}} for k, v in (("err", "0.0025"), ("word", "'high'"))}
        )
    )
    values, problems = executed_values([claim], tmp_path)
    assert values == {("ch", "err"): 0.0025} and problems == []
    assert verdict_problems([claim], values) == []
    assert verdict_problems([{**claim, "verdict": "differs", "why": "y"}], values)
    _, missing = executed_values([{**claim, "key": "absent"}], tmp_path)
    assert "glues no key 'absent'" in missing[0]
    _, words = executed_values([{**claim, "key": "word"}], tmp_path)
    assert "not a number" in words[0]
    _, gone = executed_values([{**claim, "chapter": "other"}], tmp_path)
    assert "no executed notebook" in gone[0]
    row = (
        '<p>1 claim: 1 reproduced, 0 differ, 0 not testable.</p><table><tr><td><p id="claim-c1">x'
        '</p></td><td><span class="pasted-text">{}</span></td><td>reproduced</td></tr></table>'
    )
    assert page_problems([claim], values, row.format("0.0025")) == []
    assert "the page shows ['0.002']" in page_problems([claim], values, row.format("0.002"))[0]
    assert "no row" in page_problems([{**claim, "id": "c2"}], values, row.format("0.0025"))[0]
    assert "lacks" in page_problems([claim, {**claim, "id": "c2"}], values, row.format("0.0025"))[0]


def test_every_ledger_value_equals_the_executed_one_and_every_verdict_follows_its_rule():
    problems = ledger_problems(ROOT / "book" / "claims.yaml", BUILD)
    assert not problems, "the claims ledger disagrees with the build:\n- " + "\n- ".join(problems)
