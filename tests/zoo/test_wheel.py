"""A release as a user meets it: the checkout's presets published to an (emulated) Hugging Face
Hub with the release step, a wheel built from that tree, installed alone in a fresh virtual
environment, and every built-in preset loaded from the Hub with nothing but the wheel."""

import ast
import importlib.metadata
import json
import re
import subprocess
import sys
import zipfile

import pytest
from hub_emulator import HubEmulator
from release import ROOT, build_release, install_wheel, user_env

OWNER = "kgan-release-test"
TOKEN = "hf_release"

# In the fresh environment: every built-in preset from the Hub, verified against the registry's
# SHA-256 and built (the checkout's copies are checked against their golden outputs by
# test_published.py; these are the same bytes).
CHECK = r"""
import json, os
import kgan
report = {"kgan_file": kgan.__file__, "checkout_zoo": str(kgan.zoo.registry.source_zoo_folder()),
          "presets": {}}
for name in sorted(kgan.zoo.builtin_presets()):
    source = kgan.zoo.resolve(name)
    folder = kgan.zoo.pull(name, verbose=False)
    model = kgan.zoo.load(name)
    report["presets"][name] = {"source": source["kind"], "location": source["location"],
                               "folder": folder, "class_name": type(model).__name__}
print("REPORT", json.dumps(report))
"""


def _requirement_name(requirement):
    return re.sub(r"[-_.]+", "-", re.split(r"[ ;<>=!~\[(]", requirement, maxsplit=1)[0]).lower()


def _closure(requirements, seen=None):
    """The distributions `requirements` install, with their extras, recursively."""
    seen = set() if seen is None else seen
    for requirement in requirements:
        name = _requirement_name(requirement)
        extras = set(re.findall(r"\[([^\]]*)\]", requirement.split(";")[0]))
        extras = {e.strip() for group in extras for e in group.split(",")}
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            continue
        wanted = []
        for sub in requires:
            marker = re.search(r"extra\s*==\s*[\"']([^\"']+)", sub)
            if marker is None or marker.group(1) in extras:
                wanted.append(sub.split(";")[0])
        _closure(wanted, seen)
    return seen


def _imports(tree):
    """Top-level names of the absolute imports in `tree`, without those in a `try` whose
    handler catches ImportError (optional dependencies with their own error message)."""
    optional = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
            h.type is not None and "ImportError" in ast.unparse(h.type) for h in node.handlers
        ):
            optional |= {id(n) for statement in node.body for n in ast.walk(statement)}
    names = set()
    for node in ast.walk(tree):
        if id(node) in optional:
            continue
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_every_import_of_kgan_is_a_declared_dependency(release):
    """A fresh install gets everything kgan imports unconditionally: each third-party import
    of the package is provided by the wheel's requirements or what they install."""
    with zipfile.ZipFile(release["wheel"]) as wheel:
        metadata = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
        lines = wheel.read(metadata).decode().splitlines()
    requirements = [
        line.split(":", 1)[1].strip()
        for line in lines
        if line.startswith("Requires-Dist:") and "extra ==" not in line
    ]
    declared = _closure(requirements)
    providers = importlib.metadata.packages_distributions()
    imported = set()
    for path in (ROOT / "kgan").rglob("*.py"):
        imported |= _imports(ast.parse(path.read_text()))
    third_party = sorted(imported - set(sys.stdlib_module_names) - {"kgan"})
    assert {"tensorflow", "keras", "numpy"} <= set(third_party)
    undeclared = {
        name: providers.get(name)
        for name in third_party
        if not any(_requirement_name(d) in declared for d in providers.get(name, []))
    }
    assert undeclared == {}


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """An emulated Hub holding every preset of the checkout, and a wheel whose registry pins
    them."""
    work = tmp_path_factory.mktemp("release")
    hub = HubEmulator(token=TOKEN)
    tree, wheel = build_release(work, hub, OWNER, TOKEN)
    yield {"hub": hub, "wheel": wheel, "tree": tree, "work": work}
    hub.close()


def test_the_release_step_pins_every_preset(release):
    registry = json.loads((release["tree"] / "kgan" / "zoo" / "presets.json").read_text())
    index = json.loads((release["tree"] / "zoo" / "index.json").read_text())
    assert registry == index
    checkout = json.loads((ROOT / "zoo" / "index.json").read_text())["presets"]
    assert set(registry["presets"]) == set(checkout)
    for name, entry in registry["presets"].items():
        hub = entry["hub"]
        assert hub["repo_id"] == f"{OWNER}/{name}" and hub["subfolder"] == ""
        files = release["hub"].files(hub["repo_id"], hub["revision"])
        assert sorted(files) == sorted(entry["files"]) == sorted(checkout[name]["files"])


def test_the_wheel_holds_the_package_and_nothing_of_the_repository(release):
    with zipfile.ZipFile(release["wheel"]) as wheel:
        names = wheel.namelist()
        registry = json.loads(wheel.read("kgan/zoo/presets.json"))
    assert all(n.startswith(("kgan/", "kgan-")) for n in names), names
    assert not any(n.startswith(("zoo/", "benchmarks/", "tests/")) for n in names)
    assert "kgan/cli/__init__.py" in names and "kgan/zoo/hub.py" in names
    assert all("hub" in entry for entry in registry["presets"].values())
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    with zipfile.ZipFile(release["wheel"]) as wheel:
        assert "kgan = kgan.cli:main" in wheel.read(entry_points).decode()


def test_an_installed_wheel_loads_every_preset_from_the_hub(release, tmp_path):
    venv = tmp_path / "venv"
    python = install_wheel(release["wheel"], venv)
    hub = release["hub"]
    env = user_env(hub, tmp_path)
    hub.requests.clear()
    out = subprocess.run(
        [str(python), "-c", CHECK],
        env=env,
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    report = json.loads(next(x for x in out.splitlines() if x.startswith("REPORT"))[7:])
    assert report["kgan_file"].startswith(str(venv)), report["kgan_file"]
    assert report["checkout_zoo"] == "None"
    registry = json.loads((release["tree"] / "kgan" / "zoo" / "presets.json").read_text())
    assert set(report["presets"]) == set(registry["presets"])
    for name, row in report["presets"].items():
        revision = registry["presets"][name]["hub"]["revision"]
        assert row["source"] == "hub" and row["location"].endswith(f"@{revision}"), name
        assert row["folder"].startswith(env["HF_HOME"]), name
        assert row["class_name"] == registry["presets"][name]["class_name"], name
    gets = [p for m, p in hub.requests if m == "GET"]
    assert len(gets) == sum(len(e["files"]) for e in registry["presets"].values())
    assert all("/resolve/" in p and "/main/" not in p for p in gets)
    # The installed command, on a warm cache: no request.
    hub.requests.clear()
    kgan_command = python.parent / "kgan"
    samples = tmp_path / "samples.png"
    subprocess.run(
        [str(kgan_command), "sample", "cgan_mnist", "--num", "10", "--labels", "0-9"]
        + ["--out", str(samples)],
        env=env,
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    assert samples.stat().st_size > 0 and hub.requests == []
