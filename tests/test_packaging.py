"""warroom as users install it: a wheel built from the tree, installed into a fresh virtual
environment (no editable install, no constraints file: the package's own metadata must
carry what the code needs), then run from there: `--version`, `init`, `check-config`,
`declare` + `update` (the packaged templates) and a headless start of the demo (the
packaged stylesheet, the Kubernetes stand-in, every pane's first snapshot).

A stylesheet, template or module left out of the wheel fails here, not on a user's
machine. pip's own cache (reused between runs) keeps the install to ~15 s; the wheel
is built from a copy of the sources so a stale ``build/`` folder cannot leak into it.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import tui

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "README.md", "tui", "widgets", "checks")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def _clean_env(tmp: Path) -> dict[str, str]:
    """The user's environment, less anything that would make pip or Python see this
    checkout or this test's virtual environment."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PIP_CONSTRAINT", "PYTHON", "VIRTUAL_ENV", "WARROOM_"))}
    env["HOME"] = str(tmp / "home")
    env["XDG_CONFIG_HOME"] = str(tmp / "home" / ".config")
    env["XDG_DATA_HOME"] = str(tmp / "home" / ".local" / "share")
    env["WARROOM_CACHE_DIR"] = str(tmp / "cache")
    # pip's wheel cache stays where it is (the user's, or CI's): that is what keeps this fast.
    env.setdefault("PIP_CACHE_DIR", str(Path(os.environ.get("HOME", "~")).expanduser() / ".cache" / "pip"))
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _run(cmd: list[str], env: dict[str, str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(cmd)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(bin dir, env, work dir) of a fresh venv with the wheel installed."""
    tmp = tmp_path_factory.mktemp("wheel")
    env = _clean_env(tmp)
    src = tmp / "src"
    src.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(ROOT / name, src / name)
    dist = tmp / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(dist), str(src)], env, tmp)
    [wheel] = dist.glob("warroom-*.whl")
    venv_dir = tmp / "venv"
    # A bare venv, filled by this environment's pip (--python): ensurepip would add ~8 s, and
    # compiling every module of the dependencies ~30 s more; neither is what is under test.
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv_dir)], env, tmp)
    bin_dir = venv_dir / "bin"
    _run([sys.executable, "-m", "pip", "--python", str(bin_dir / "python"), "install", "--no-compile", str(wheel)],
         env, tmp)
    work = tmp / "work"        # not the checkout: nothing may be imported from the sources
    work.mkdir()
    return bin_dir, env, work


def test_the_wheel_holds_the_stylesheet_templates_and_stand_in(installed):
    bin_dir, env, work = installed
    out = _run([str(bin_dir / "python"), "-c", textwrap.dedent("""
        import json, tui, importlib.resources as r
        from tui.demo import kubeapi_standin
        files = r.files("tui")
        print(json.dumps({"tui": tui.__file__, "tcss": files.joinpath("app.tcss").is_file(),
                          "templates": sorted(p.name for p in files.joinpath("templates").iterdir()),
                          "standin": kubeapi_standin.__file__}))
    """)], env, work).stdout
    found = json.loads(out.strip().splitlines()[-1])
    assert "site-packages" in found["tui"] and "site-packages" in found["standin"], found
    assert found["tcss"] is True
    assert found["templates"] == ["initial.txt", "progress.txt", "resolved.txt"]


def test_version_init_and_check_config_from_the_wheel(installed):
    bin_dir, env, work = installed
    warroom = str(bin_dir / "warroom")
    assert _run([warroom, "--version"], env, work).stdout.strip() == f"warroom {tui.__version__}"
    _run([warroom, "init", "warroom.toml"], env, work)
    assert (work / "warroom.toml").is_file()
    _run([warroom, "check-config", "warroom.toml"], env, work)


def test_declare_and_draft_an_update_from_the_wheel(installed):
    bin_dir, env, work = installed
    warroom = str(bin_dir / "warroom")
    data = ["--data-dir", str(work / "data")]
    assert _run([warroom, "declare", "--title", "Checkout failing", "--sev", "2", *data], env, work).stdout.startswith("INC-")
    draft = _run([warroom, "update", *data], env, work).stdout
    assert "Checkout failing" in draft                  # rendered from a packaged template


_DEMO_SMOKE = """
import asyncio, html, re, time
from tui.demo import build_app
from tui.demo.scenario import Demo

def screen_text(app) -> str:
    svg = app.export_screenshot()
    return html.unescape(" ".join(re.findall(r">([^<]*)</text>", svg))).replace("\\xa0", " ")

async def main() -> None:
    demo = Demo(speed=4).start()
    try:
        app = build_app(demo, author="smoke")
        async with app.run_test(size=(160, 48)) as pilot:
            # The panes drawn from their first snapshots: a service (health), the stand-in's
            # cluster (pods: its title, and below the pods it listed), the deploy commit
            # (deploys), the CPU gauge (host).
            wanted = ("payments", "Pods · demo-cluster", "deploy payment", "cpu ")
            # Each seen at some point, the slowest pane's first snapshot included.
            # The pods pane's title comes with its first snapshot even when that snapshot is an
            # error (a stand-in slow to answer on a loaded machine): its rows may come a poll later.
            seen = set()
            pod = "edge/api-gateway-6b7f-b9q4m"
            deadline = time.monotonic() + 90    # a loaded machine is slow; normally a few seconds
            while time.monotonic() < deadline:
                text = screen_text(app)
                seen.update(w for w in wanted if w in text)
                pods = app.screen.query_one("PodsPane").row_keys
                if len(seen) == len(wanted) and pod in pods:
                    break
                await pilot.pause(0.25)
            missing = [w for w in wanted if w not in seen]
            assert not missing, f"never shown: {missing} in {text}"
            assert pod in pods, (pods, text)
            await pilot.press("ctrl+q")
    finally:
        demo.stop()
    print("demo ok")

asyncio.run(main())
"""


def test_headless_demo_starts_from_the_wheel(installed):
    bin_dir, env, work = installed
    script = work / "demo_smoke.py"
    script.write_text(_DEMO_SMOKE, encoding="utf-8")
    out = _run([str(bin_dir / "python"), str(script)], env, work, timeout=180).stdout
    assert out.strip().endswith("demo ok")
