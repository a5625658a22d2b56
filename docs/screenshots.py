"""Screenshots of each workspace at 1440×900 on the synthetic demo → docs/screenshots/*.png.

    .venv/bin/python docs/screenshots.py [--out docs/screenshots]

Builds the demo in a temporary SQLite database (`geoplatform init` + `geoplatform demo`), adds one account per
role, serves the app on 127.0.0.1 and drives Debian's Chromium through Playwright (never a downloaded browser),
with every request outside 127.0.0.1 blocked — the pictures show the offline product. With Pillow installed
the PNGs are reduced to a 256-colour palette (each well under 250 KB); without it they are kept as taken.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = "screenshot-demo-9"
# (file, account, role, page, what to wait for): one picture per workspace
SHOTS = (
    ("map", "shot_bureau", "bureau", "/", "window.gpMap || document.querySelector('.leaflet-container')"),
    ("bureau", "shot_bureau", "bureau", "/ws/bureau", "document.getElementById('wb-tiles')"),
    ("street", "shot_officer", "street_officer", "/ws/street", "window.wsStreet && wsStreet.ready"),
    ("utility", "shot_water", "utility", "/ws/utility", "window.wsUtility && wsUtility.ready"),
    ("takeover", "shot_state", "state_company", "/ws/takeover", "document.getElementById('tk-candidates')"),
    ("governance", "shot_community", "community_officer", "/ws/governance", "document.querySelector('main, .gp-main')"),
    ("compound", "shot_officer", "street_officer", "/compounds/{compound}", "document.getElementById('wc-history')"),
    ("owners_org", "shot_officer", "street_officer", "/ws/owners-org", "document.querySelector('main, .gp-main')"),
    ("firms", "shot_bureau", "bureau", "/ws/firms/bureau", "document.querySelector('main, .gp-main')"),
    ("path", "shot_bureau", "bureau", "/ws/coverage/path", "document.querySelector('main, .gp-main')"),
)


def geoplatform(db: str, *args: str) -> None:
    subprocess.run([str(Path(sys.executable).parent / "geoplatform"), "--db", db, *args], check=True, cwd=ROOT,
                   env={**os.environ, "GEOPLATFORM_DEMO_PASSWORD": PASSWORD}, stdout=subprocess.DEVNULL)


def build_demo(db: str) -> dict[str, str]:
    """The demo plus one account per role; returns {"street", "community", "compound"} of the officer."""
    from sqlalchemy import func, select

    from geoplatform import auth
    from geoplatform import models as m
    from geoplatform.context import Context

    geoplatform(db, "init")
    geoplatform(db, "demo")
    ctx = Context.create(db)
    with ctx.session() as s:
        street = s.scalar(select(m.Compound.street_code).where(m.Compound.street_code.is_not(None))
                          .group_by(m.Compound.street_code).order_by(func.count().desc(), m.Compound.street_code).limit(1))
        community = s.scalar(select(m.Community.code).where(m.Community.street_code == street)
                             .order_by(m.Community.code).limit(1))
        compound = s.scalar(select(m.Compound.id).where(m.Compound.street_code == street,
                                                        m.Compound.boundary.is_not(None)).order_by(m.Compound.id).limit(1))
        for name, role, kw in (("shot_bureau", "bureau", {}), ("shot_officer", "street_officer", {"street": street}),
                               ("shot_water", "utility", {"utility": "water"}), ("shot_state", "state_company", {}),
                               ("shot_community", "community_officer", {"community": community})):
            if s.scalar(select(m.User.name).where(m.User.name == name)) is None:
                auth.add_user(s, name, role, PASSWORD, **kw)
    ctx.engine.dispose()
    return {"street": street, "community": community, "compound": compound}


def serve(db: str):  # noqa: ANN201
    """The app on a free 127.0.0.1 port under waitress (a daemon thread); returns (base URL, server)."""
    import logging

    from waitress.server import create_server

    logging.getLogger("waitress").setLevel(logging.ERROR)
    from geoplatform.context import Context
    from web.app import create_app

    app = create_app(Context.create(db))
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    return f"http://127.0.0.1:{server.effective_port}", server


def wait_for(page, expression: str, timeout: float = 120.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not page.evaluate(f"() => !!({expression})"):
        if time.monotonic() > deadline:
            raise TimeoutError(expression)
        page.wait_for_timeout(200)


def optimise(path: Path) -> None:
    """A 256-colour palette PNG (Pillow), when Pillow is installed."""
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(path) as img:
        small = img.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    small.save(path, optimize=True)


def shoot(base: str, out: Path, demo: dict[str, str]) -> list[Path]:
    from playwright.sync_api import sync_playwright

    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for name, account, _role, path, ready in SHOTS:
            ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN", device_scale_factor=1)
            ctx.route("**/*", lambda r: r.continue_() if urlsplit(r.request.url).hostname in ("127.0.0.1", None)
                      or r.request.url.startswith("data:") else r.abort())
            page = ctx.new_page()
            page.goto(f"{base}/login")
            page.fill("input[name=name]", account)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_load_state("networkidle")
            page.goto(base + path.format(**demo))
            page.wait_for_load_state("networkidle")
            wait_for(page, ready)
            wait_for(page, "document.body.dataset.wsLoading !== '1'")
            page.wait_for_load_state("networkidle")
            target = out / f"{name}.png"
            page.screenshot(path=str(target))
            optimise(target)
            written.append(target)
            ctx.close()
        browser.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    out = Path(parser.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory(prefix="gp-shots-") as tmp:
        os.environ.setdefault("GEOPLATFORM_INSTANCE", str(Path(tmp) / "instance"))
        db = f"sqlite:///{Path(tmp) / 'demo.db'}"
        demo = build_demo(db)
        base, server = serve(db)
        try:
            for path in shoot(base, out, demo):
                print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}  {path.stat().st_size // 1024} KB")
        finally:
            server.close()


if __name__ == "__main__":
    main()
