"""The data tests that read files run twice: files in memory, and streamed from disk."""

import pytest

import kgan.data.loading as loading


def pytest_generate_tests(metafunc):
    if metafunc.module.__name__.endswith("test_data") and "tmp_path" in metafunc.fixturenames:
        metafunc.parametrize("reading", ["in memory", "streamed"], indirect=True)


@pytest.fixture(autouse=True)
def reading(request, monkeypatch):
    """How `load(..., cache="auto")` reads files: "streamed" sets the memory budget below any
    file's size."""
    mode = getattr(request, "param", "in memory")
    if mode == "streamed":
        monkeypatch.setattr(loading, "MEMORY_BUDGET", -1)
    return mode
