"""The command line starts without TensorFlow: help, every command's help and argument errors
import none of it; the choices it offers are the ones the library defines."""

import json
import subprocess
import sys

import pytest

import kgan
from kgan.cli import names

# Runs the command as the `kgan` script does (argv[0] "kgan"), then reports which heavy modules
# were imported, whatever the exit status.
CHILD = """
import json, sys
sys.argv = ["kgan", *json.loads(sys.argv[1])]
import kgan.cli
try:
    status = kgan.cli.main()
except SystemExit as exit:
    status = exit.code
heavy = sorted(m for m in ("tensorflow", "keras", "numpy", "huggingface_hub") if m in sys.modules)
print("HEAVY", json.dumps({"status": status, "heavy": heavy}))
"""


def _run(argv):
    out = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(argv)], capture_output=True, text=True
    )
    line = next(x for x in out.stdout.splitlines() if x.startswith("HEAVY"))
    return json.loads(line[6:]), out.stdout + out.stderr


@pytest.mark.parametrize(
    "argv, status, text",
    [
        (["--help"], 0, "usage: kgan"),
        (["--version"], 0, "kgan "),
        (["train", "--help"], 0, "which trainer to build"),
        (["sample", "--help"], 0, "usage: kgan sample"),
        (["evaluate", "--help"], 0, "usage: kgan evaluate"),
        (["export", "--help"], 0, "usage: kgan export"),
        (["cluster", "--help"], 0, "usage: kgan cluster"),
        (["zoo", "publish", "--help"], 0, "hf://OWNER/REPO"),
        (["train", "dcgan"], 2, "invalid choice: 'dcgan'"),
        (["train", "gan", "--loss", "nope", "--out", "r"], 2, "invalid choice: 'nope'"),
        (["export", "run", "--format", "onnx", "--out", "x"], 2, "--format takes"),
        (["no_such_command"], 2, "invalid choice"),
    ],
)
def test_help_and_argument_errors_import_no_tensorflow(argv, status, text):
    report, output = _run(argv)
    assert report["status"] == status, output
    assert text in output
    assert report["heavy"] == [], f"{argv} imported {report['heavy']}"


def test_a_command_that_runs_loads_the_library(tmp_path):
    report, output = _run(["zoo", "info", str(tmp_path / "missing")])
    assert report["status"] == 2 and "tensorflow" in report["heavy"], output


def test_the_offered_names_are_the_libraries():
    registered = set(kgan.models.list_trainers())
    assert set(names.trainer_names()) == registered  # including any registered since
    builtin = {
        name
        for name, cls in kgan.models.TRAINERS.items()
        if cls.__module__.startswith("kgan.models")
    }
    assert set(names._builtin_trainers()) == builtin
    assert names.loss_names() == tuple(kgan.losses.LOSSES)
    assert names.strategy_names() == kgan.distribute.STRATEGIES
