"""The Chromium of the browser check: found, or provisioned when the machine has none (`make browser`).

Prints the path of a Chromium executable on stdout (everything else goes to stderr), looking at

1. ``$EMT_CHROMIUM``, which must then name an executable file;
2. ``chromium``, ``chromium-browser``, ``google-chrome`` or ``google-chrome-stable`` on ``PATH``;
3. the Chromium that ``playwright install chromium`` downloaded for the installed Playwright.

When none is found it provisions one, as the browser check's users would by hand:

- through the system package manager where the machine allows it: ``apt-get install chromium``
  (Debian's package), as root or through password-less ``sudo``;
- otherwise, or if that fails, with Playwright's own download: ``python -m playwright install
  chromium``, which fetches the Chromium build that matches the installed Playwright.

If neither works it stops with one line naming the commands that install a Chromium, and exit
status 1.

    python tools/chromium.py          # the path, provisioning if needed
    python tools/chromium.py --find   # the path, or exit status 1; installs nothing
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_HINT = (
    "make browser: no Chromium found and none could be installed here; install one with "
    "`sudo apt-get install chromium` (Debian) or `python -m playwright install chromium`, "
    "or set EMT_CHROMIUM to a Chromium or Chrome executable"
)


def _executable(path: str | os.PathLike) -> bool:
    return Path(path).is_file() and os.access(path, os.X_OK)


def playwright_chromium() -> str | None:
    """The Chromium that `playwright install chromium` puts in Playwright's cache, if it is there."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    try:
        with sync_playwright() as playwright:
            path = playwright.chromium.executable_path
    except Exception:  # noqa: BLE001 - a broken Playwright driver means: not available
        return None
    return path if path and _executable(path) else None


def find(
    environ: Mapping[str, str] = os.environ,
    which: Callable[[str], str | None] = shutil.which,
    downloaded: Callable[[], str | None] = playwright_chromium,
) -> str | None:
    """The Chromium to drive, or None. A set but wrong ``EMT_CHROMIUM`` is an error, not a miss."""
    named = environ.get("EMT_CHROMIUM")
    if named:
        if not _executable(named):
            raise FileNotFoundError(f"EMT_CHROMIUM={named!r} is not an executable file")
        return named
    for name in NAMES:
        path = which(name)
        if path:
            return path
    return downloaded()


def _as_root() -> list[str] | None:
    """The prefix that runs a command as root here ([] when root already), or None if none does."""
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo"):
        done = subprocess.run(["sudo", "-n", "true"], capture_output=True, check=False)
        if done.returncode == 0:
            return ["sudo", "-n"]
    return None


def install_with_apt() -> bool:
    """``apt-get install chromium`` where apt-get exists and root is available; True if it ran."""
    root = _as_root()
    if not shutil.which("apt-get") or root is None:
        return False
    print("tools/chromium.py: installing Chromium with apt-get", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "chromium"]):
        done = subprocess.run([*root, *command], stdout=sys.stderr, env=env, check=False)
        if done.returncode != 0:
            return False
    return True


def install_with_playwright() -> bool:
    """``python -m playwright install chromium``; True if it succeeded."""
    print("tools/chromium.py: downloading Chromium with Playwright", file=sys.stderr)
    done = subprocess.run(
        [sys.executable, "-m", "playwright", "install", "chromium"],
        stdout=sys.stderr,
        check=False,
    )
    return done.returncode == 0


PROVISIONERS: tuple[Callable[[], bool], ...] = (install_with_apt, install_with_playwright)


def provide(
    find: Callable[[], str | None] = find,
    provisioners: tuple[Callable[[], bool], ...] = PROVISIONERS,
) -> str | None:
    """A Chromium: the one found, else the first one a provisioner makes findable; else None."""
    found = find()
    if found:
        return found
    for provision in provisioners:
        if provision():
            found = find()
            if found:
                return found
    return None


def main(argv: list[str] | None = None, provide: Callable[[], str | None] = provide) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv not in ([], ["--find"]):
        print(f"usage: {Path(__file__).name} [--find]", file=sys.stderr)
        return 2
    try:
        path = find() if argv == ["--find"] else provide()
    except FileNotFoundError as error:
        print(f"make browser: {error}", file=sys.stderr)
        return 1
    if path is None:
        print("no Chromium found" if argv else INSTALL_HINT, file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
