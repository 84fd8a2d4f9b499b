import os

import pytest

from kgan.cache import cache_root


def test_one_cache_root_from_kgan_home_else_xdg_else_home(monkeypatch, tmp_path):
    monkeypatch.delenv("KGAN_CACHE", raising=False)
    monkeypatch.setenv("KGAN_HOME", str(tmp_path / "home"))
    assert cache_root() == str(tmp_path / "home")
    monkeypatch.delenv("KGAN_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == os.path.join(str(tmp_path / "xdg"), "kgan")


def test_the_former_kgan_cache_still_works_with_a_warning(monkeypatch, tmp_path):
    monkeypatch.delenv("KGAN_HOME", raising=False)
    monkeypatch.setenv("KGAN_CACHE", str(tmp_path / "old"))
    with pytest.warns(DeprecationWarning, match="KGAN_HOME"):
        assert cache_root() == str(tmp_path / "old")
