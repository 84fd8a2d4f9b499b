"""The data tests that build pipelines from files (`data.load` on a path) run twice: files read
into memory, and streamed from disk."""

import inspect

import pytest

import kgan.data.loading as loading


def pytest_generate_tests(metafunc):
    if (
        metafunc.module.__name__.endswith("test_data")
        and "tmp_path" in metafunc.fixturenames
        and "data.load(" in inspect.getsource(metafunc.function)
    ):
        metafunc.parametrize("reading", ["in memory", "streamed"], indirect=True)


@pytest.fixture(autouse=True)
def reading(request, monkeypatch):
    """How `load(..., cache="auto")` reads files: "streamed" sets the memory budget below any
    file's size."""
    mode = getattr(request, "param", "in memory")
    if mode == "streamed":
        monkeypatch.setattr(loading, "MEMORY_BUDGET", -1)
    return mode
