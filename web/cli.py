"""`geoplatform serve`: the web app under waitress (Flask's dev server only with --debug)."""

from __future__ import annotations

import click


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64), help="waitress worker threads.")
@click.option("--debug", is_flag=True, help="Use Flask's reloading development server instead of waitress.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, threads: int, debug: bool) -> None:
    """Serve the web map, /api/v1 and OGC API – Features."""
    from geoplatform.cli import get_context, require_schema
    from web.app import create_app

    context = get_context(ctx)
    require_schema(context)
    app = create_app(context)
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/"
    click.echo(f"geoplatform: serving {url} (database {context.config.database_url.split('@')[-1]})", err=True)
    _warm_up(context)
    if debug:
        app.run(host=host, port=port, debug=True, use_reloader=False)
        return
    from waitress import serve as waitress_serve

    waitress_serve(app, host=host, port=port, threads=threads, ident="geoplatform")


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
