"""Browser fixtures: the app under waitress on 127.0.0.1 (web demo DB, both backends); Chromium is in tests/conftest.py."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from tests.web.conftest import web_demo  # noqa: F401  (the writable demo database per backend)


@dataclass
class Server:
    """A running app: its base URL and the demo it serves."""

    url: str
    demo: object
    context: object = None
    requests: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def server(web_demo, tmp_path_factory) -> Iterator[Server]:  # noqa: ANN001, F811
    """The web app served by waitress on a free 127.0.0.1 port for the session."""
    from geoplatform.context import Context
    from tests.support.serving import served
    from web.app import create_app

    os.environ.setdefault("GEOPLATFORM_INSTANCE", str(tmp_path_factory.mktemp("instance")))
    context = Context.create(web_demo.url)
    with served(create_app(context), threads=8) as url:
        yield Server(url=url, demo=web_demo, context=context)


