"""Fixtures for the real-browser widget tests: one JupyterLab server and one headless
Chromium per session. A missing Chromium or a server that does not start fails the tests
with the reason and the install command, as a missing storage server does."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.lab import ARTIFACTS, CHROMIUM, CHROMIUM_HINT, browser, jupyterlab


@pytest.fixture(scope="session")
def lab_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("lab")


@pytest.fixture(scope="session")
def lab_url(lab_root: Path):
    with jupyterlab(lab_root) as url:  # ServerUnavailable, with the server's log, if it cannot start
        yield url


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.fail(CHROMIUM_HINT, pytrace=False)  # a missing browser fails, as a missing server does
    with browser() as b:
        yield b


@pytest.fixture
def page(chromium):
    ARTIFACTS.mkdir(exist_ok=True)
    context = chromium.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    pg = context.new_page()
    yield pg
    context.close()
