"""`geoplatform serve`: the web app under waitress (Flask's dev server only with --debug).

waitress' defaults let a handful of sockets stop the server: it stops accepting at 100 open connections
(`connection_limit`) and keeps an idle one for 120 s, so 110 silent sockets (or 300 slowloris ones sending a
header byte now and then) made every other request wait. `serve` raises the limit well above what an idle
crowd can fill (polling instead of select(), which cannot watch more than 1024 descriptors), closes idle
channels sooner and caps header and body sizes. In production a reverse proxy (nginx, docs/deploy.md) in
front absorbs slow clients anyway; these settings are what holds when someone reaches waitress directly.
"""

from __future__ import annotations

from typing import Any

import click

CONNECTION_LIMIT = 1000  # [D] open connections waitress serves at once (its default 100 fell to 110 idle sockets)
CHANNEL_TIMEOUT_S = 30  # [D] an idle connection is closed after this long (waitress: 120 s)
CLEANUP_INTERVAL_S = 10  # [D] how often idle connections are looked for (waitress: 30 s)
BACKLOG = 2048  # [D] connections the kernel queues while waitress is busy accepting
MAX_HEADER_BYTES = 64 * 1024  # [D] request line + headers (waitress: 256 KiB; nginx's default bar is 32 KiB)
BODY_SLACK_BYTES = 1024 * 1024  # [D] multipart framing on top of the largest upload the app takes


def waitress_settings(host: str, port: int, threads: int, max_upload_bytes: int,
                      connection_limit: int = CONNECTION_LIMIT, channel_timeout: int = CHANNEL_TIMEOUT_S) -> dict[str, Any]:
    """The keyword arguments `serve` gives waitress (pure: tested without a server)."""
    return {"host": host, "port": port, "threads": threads, "ident": "geoplatform",
            "connection_limit": connection_limit, "channel_timeout": channel_timeout,
            "cleanup_interval": min(CLEANUP_INTERVAL_S, channel_timeout), "backlog": BACKLOG,
            "asyncore_use_poll": True,  # select() fails beyond 1024 descriptors
            "max_request_header_size": MAX_HEADER_BYTES,
            "max_request_body_size": max_upload_bytes + BODY_SLACK_BYTES,
            # the app itself decides whom to believe about X-Forwarded-* (GEOPLATFORM_TRUSTED_PROXIES)
            "clear_untrusted_proxy_headers": False}


def _raise_open_files_limit(wanted: int) -> None:
    """Lift the soft limit of open files towards `wanted` (never above the hard limit): each connection is one."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on Linux/macOS
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):  # pragma: no cover - a locked-down host: waitress still runs
            pass


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64), help="waitress worker threads.")
@click.option("--connection-limit", default=CONNECTION_LIMIT, show_default=True, type=click.IntRange(10, 100_000),
              help="Open connections served at once (idle ones included).")
@click.option("--channel-timeout", default=CHANNEL_TIMEOUT_S, show_default=True, type=click.IntRange(1, 3600),
              help="Seconds after which an idle connection is closed.")
@click.option("--debug", is_flag=True, help="Use Flask's reloading development server instead of waitress.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, threads: int, connection_limit: int, channel_timeout: int,
          debug: bool) -> None:
    """Serve the web map, /api/v1 and OGC API – Features."""
    from geoplatform.cli import get_context, require_schema
    from web.app import create_app

    context = get_context(ctx)
    require_schema(context)
    try:
        app = create_app(context)
    except ValueError as exc:  # a bad setting (e.g. GEOPLATFORM_TRUSTED_PROXIES): one line, exit 2
        raise click.UsageError(str(exc)) from None
    _warn_if_exposed(context.config.database_url)
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/"
    click.echo(f"geoplatform: serving {url} (database {context.config.database_url.split('@')[-1]})", err=True)
    if context.config.recompute_worker and not debug:
        context.start_publisher()  # the next revisions are computed there: reads keep the interpreter
    _warm_up(context)
    if debug:
        app.run(host=host, port=port, debug=True, use_reloader=False)
        return
    from waitress import serve as waitress_serve

    _raise_open_files_limit(connection_limit + 256)
    waitress_serve(app, **waitress_settings(host, port, threads, context.config.max_upload_bytes,
                                            connection_limit, channel_timeout))


def _warn_if_exposed(database_url: str) -> None:
    """Say so on stderr when the SQLite database file is readable by others (files made before they were 0600)."""
    from sqlalchemy.engine import make_url

    from geoplatform.private_files import exposure

    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        warning = exposure(url.database)
        if warning:
            click.echo(f"geoplatform: warning: {warning}", err=True)


def _warm_up(context) -> None:  # noqa: ANN001
    """Compute the plugins' compound attributes in the background so the first map view is not the one waiting."""
    import logging
    import threading

    def run() -> None:
        try:
            context.compound_attributes()
        except Exception:  # only a warm-up: the first request will report any real problem
            logging.getLogger(__name__).exception("warm-up of compound attributes failed")

    threading.Thread(target=run, name="geoplatform-warm-up", daemon=True).start()
