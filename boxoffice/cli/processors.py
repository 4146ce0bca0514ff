"""`boxoffice processors worker`: run one Faust worker of the stream processors."""

from __future__ import annotations

import logging

import typer

from boxoffice.cli.common import settings, user_errors

app = typer.Typer(no_args_is_help=True, help="The Faust stream processors.")


@app.callback()
def processors() -> None:
    """The Faust stream processors (join + signed deltas)."""


@app.command()
def worker(
    index: int = typer.Option(0, min=0, help="worker number on this machine: web port offset and "
                              "data directory"),
    loglevel: str = typer.Option("info", help="Faust log level"),
) -> None:
    """Run a processor worker in the foreground until SIGTERM/Ctrl-C."""
    from faust.worker import Worker

    from stream_processors.app import create_app
    from stream_processors.changelog import ensure_changelog
    from stream_processors.topics import ensure_output_topics

    with user_errors():
        s = settings()
        ensure_output_topics(s)
        ensure_changelog(s)
        faust_app, _ = create_app(s, worker_index=index)
        logging.getLogger("boxoffice.processors").setLevel(loglevel.upper())
        Worker(faust_app, loglevel=loglevel, quiet=True).execute_from_commandline()


if __name__ == "__main__":
    app()
