"""tools/chromium.py: the browser check finds a Chromium, provisions one where none is found, and
otherwise stops with one line naming the command that installs one."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tools" / "chromium.py"


def _tool():
    spec = importlib.util.spec_from_file_location("emt_chromium", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fake_browser(folder: Path, name: str = "chromium") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    path.chmod(0o755)
    return path


def test_find_takes_emt_chromium_first_and_rejects_a_wrong_one(tmp_path):
    tool = _tool()
    browser = _fake_browser(tmp_path)
    never = lambda name: pytest.fail(f"looked up {name} although EMT_CHROMIUM is set")
    assert tool.find({"EMT_CHROMIUM": str(browser)}, never, lambda: None) == str(browser)
    with pytest.raises(FileNotFoundError, match="not an executable file"):
        tool.find({"EMT_CHROMIUM": str(tmp_path / "missing")}, never, lambda: None)


def test_find_looks_on_path_then_at_playwrights_download():
    tool = _tool()
    on_path = {"google-chrome": "/usr/bin/google-chrome"}
    assert tool.find({}, on_path.get, lambda: "/cache/chrome") == "/usr/bin/google-chrome"
    assert tool.find({}, {}.get, lambda: "/cache/chrome") == "/cache/chrome"
    assert tool.find({}, {}.get, lambda: None) is None


def test_provide_installs_only_when_nothing_is_found():
    tool = _tool()
    calls = []
    installed = {"done": False}

    def apt():
        calls.append("apt")
        return False  # e.g. no root

    def playwright():
        calls.append("playwright")
        installed["done"] = True
        return True

    def find():
        return "/cache/chrome" if installed["done"] else None

    assert tool.provide(find, (apt, playwright)) == "/cache/chrome"
    assert calls == ["apt", "playwright"]
    calls.clear()
    assert tool.provide(lambda: "/usr/bin/chromium", (apt, playwright)) == "/usr/bin/chromium"
    assert calls == [], "a Chromium was found: nothing may be installed"
    assert tool.provide(lambda: None, (apt, lambda: False)) is None


def test_without_any_chromium_the_command_stops_with_one_line(capsys):
    """No Chromium anywhere and no way to install one: one line on stderr naming the commands that
    install one, nothing on stdout (the Makefile reads the path from there), exit status 1."""
    tool = _tool()
    assert tool.main([], provide=lambda: tool.provide(lambda: None, (lambda: False,))) == 1
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "apt-get install chromium" in lines[0] and "playwright install chromium" in lines[0]


def test_the_command_prints_the_path_it_found(tmp_path):
    browser = _fake_browser(tmp_path / "bin", "chromium-browser")
    env = {k: v for k, v in os.environ.items() if k != "EMT_CHROMIUM"}
    env["PATH"] = str(tmp_path / "bin")
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--find"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, f"{browser}\n"), done.stderr
