"""A kgan release as a user meets it, built offline: the checkout's presets published to an
(emulated) Hugging Face Hub with the release step, a wheel built from that tree, and a fresh
virtual environment holding only that wheel. Used by the packaging tests and
`benchmarks/zoo_load.py`."""

import os
import pathlib
import shutil
import subprocess
import sys
import sysconfig

ROOT = pathlib.Path(__file__).resolve().parents[2]

# The release step, in one process: `kgan zoo publish zoo/NAME --to hf://OWNER/NAME` for every
# preset of the checkout's zoo, which pins each commit in zoo/index.json and kgan's registry.
PUBLISH = """
import os, sys
import kgan.cli
zoo = sys.argv[1]
for name in sorted(os.listdir(zoo)):
    if os.path.isfile(os.path.join(zoo, name, "metadata.json")):
        status = kgan.cli.main(["zoo", "publish", os.path.join(zoo, name), "--to",
                                f"hf://{sys.argv[2]}/{name}"])
        assert status == 0, name
"""


def build_release(work, hub, owner, token):
    """Copies the package, its zoo and metadata into `work/tree`, publishes every preset to
    `hub` as `owner/NAME` with `kgan zoo publish` (pinning the commits in the copy's registry),
    and builds the wheel into `work/dist`. The checkout is untouched.

    Returns:
        `(tree, wheel)` paths.
    """
    work = pathlib.Path(work)
    tree = work / "tree"
    for item in ("kgan", "zoo", "pyproject.toml", "README.md"):
        source = ROOT / item
        if source.is_dir():
            shutil.copytree(source, tree / item, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, tree / item)
    env = dict(os.environ, HF_ENDPOINT=hub.url, HF_TOKEN=token, PYTHONPATH=str(tree))
    env.update(HF_HOME=str(work / "hf-publisher"), HF_HUB_DISABLE_TELEMETRY="1")
    env.pop("KGAN_ZOO_URL", None)
    run = {"cwd": work, "check": True, "capture_output": True}
    subprocess.run([sys.executable, "-c", PUBLISH, str(tree / "zoo"), owner], env=env, **run)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
        + ["-w", str(work / "dist"), str(tree)],
        **run,
    )
    (wheel,) = (work / "dist").glob("kgan-*.whl")
    return tree, wheel


def install_wheel(wheel, venv):
    """A fresh virtual environment at `venv` with `wheel` installed alone (no index).

    Its dependencies (TensorFlow and the rest) come from this environment's site-packages,
    appended after the fresh one's own by a plain path entry, so this environment's editable
    kgan (a .pth hook) is not installed there; which imports need which requirement is checked
    separately against the wheel's metadata.

    Returns:
        The path of the environment's Python.
    """
    venv = pathlib.Path(venv)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index"]
        + ["--disable-pip-version-check", str(wheel)],
        check=True,
        capture_output=True,
    )
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    pathlib.Path(site, "_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def user_env(hub, home):
    """The environment of a user with an empty cache under `home`: the emulated Hub as the
    endpoint, no mirror, nothing of kgan's or the Hub's variables from this process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KGAN_", "HF_", "PYTHON"))}
    env.update(HF_ENDPOINT=hub.url, HF_HOME=str(pathlib.Path(home) / "hf"))
    env.update(KGAN_HOME=str(pathlib.Path(home) / "kgan"), HF_HUB_DISABLE_TELEMETRY="1")
    env.update(TF_CPP_MIN_LOG_LEVEL="3")
    return env
