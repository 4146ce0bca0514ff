"""`boxoffice metrics serve`: the pipeline's Prometheus endpoint (wiring only; the work is
in boxoffice.metrics)."""

from __future__ import annotations

import errno

import typer

from boxoffice.cli.common import console, err_console, settings

app = typer.Typer(no_args_is_help=True,
                  help="Prometheus metrics of the whole pipeline (docs/operations.md).")


@app.command("serve")
def serve_command() -> None:
    """Serve GET /metrics on bind_host:metrics_port, basic auth with metrics_user and
    metrics_password (generated into the state directory's secrets.json), until Ctrl-C."""
    from boxoffice.metrics.server import pipeline_metrics_server
    from contracts.metrics_http import PATH

    s = settings()
    try:
        server = pipeline_metrics_server(s)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        err_console.print(f"[bold red]error:[/bold red] port {s.metrics_port} on "
                          f"{s.bind_host} is taken; set BOXOFFICE_METRICS_PORT to a free one")
        raise typer.Exit(code=2) from None
    console.print(f"serving http://{s.bind_host}:{s.metrics_port}{PATH} "
                  f"(basic auth, user {s.metrics_user})")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
