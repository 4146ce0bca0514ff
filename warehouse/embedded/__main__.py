"""``python -m warehouse.embedded --data-dir D --host H --port P --users-file F [limits]``.

Runs in the foreground until SIGTERM or SIGINT, then closes sessions and the engine so
the data directory is left consistent.
"""

from __future__ import annotations

import argparse
import signal
import threading
import time
from pathlib import Path
from types import FrameType

from warehouse.embedded.engine import Engine
from warehouse.embedded.server import EmbeddedClickHouseServer, ServerLimits, log
from warehouse.embedded.service import QueryService
from warehouse.embedded.sessions import SessionRegistry
from warehouse.embedded.users import Authenticator, load_users


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m warehouse.embedded",
        description="ClickHouse's HTTP interface over the embedded chdb engine.",
    )
    parser.add_argument("--data-dir", type=Path, required=True, help="the engine's data")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True, help="HTTP port")
    parser.add_argument("--users-file", type=Path, required=True, help="users JSON")
    defaults = ServerLimits()
    parser.add_argument("--max-request-bytes", type=int, default=defaults.max_request_bytes,
                        help="largest request body, before and after decompression")
    parser.add_argument("--socket-timeout", type=float,
                        default=defaults.socket_timeout_seconds,
                        help="seconds a silent connection is kept")
    parser.add_argument("--max-connections", type=int, default=defaults.max_connections,
                        help="connections served at once; more get a 503")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.monotonic()
    users = load_users(args.users_file)
    authenticator = Authenticator(users)
    engine = Engine(args.data_dir)
    engine.ensure_databases({user.database for user in users.values() if user.database})
    sessions = SessionRegistry()
    service = QueryService(engine=engine, authenticator=authenticator, sessions=sessions)
    limits = ServerLimits(max_request_bytes=args.max_request_bytes,
                          socket_timeout_seconds=args.socket_timeout,
                          max_connections=args.max_connections)
    server = EmbeddedClickHouseServer((args.host, args.port), service, limits)

    def stop(signum: int, _frame: FrameType | None) -> None:
        log(f"received {signal.Signals(signum).name}, shutting down")
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log(f"embedded ClickHouse {engine.version} (chdb) serving {args.data_dir} on "
        f"http://{args.host}:{args.port} (ready in {time.monotonic() - started:.1f}s)")
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        sessions.close_all()
        engine.close()
        log("stopped")


if __name__ == "__main__":
    main()
