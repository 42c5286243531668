"""The ``kefu`` console script: a thin front over the Django management commands.

kefu serve [--port N] [--host H] [--workers N]   web server (gunicorn) + embedded task worker
kefu worker                                      the task worker (Huey consumer) alone
kefu migrate                                     apply database migrations
kefu demo                                        migrate, load demo data, print the demo logins
kefu import staff FILE [--json]
kefu import orders FILE --shop NAME [--create-shop] [--json]
kefu user create USERNAME --password P --position POSITION [--staff EMPLOYEE_NO]
kefu token create USERNAME
kefu manage ARGS…                                any other management command
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys


def _django(argv: list[str]) -> None:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["kefu", *argv])


def _serve(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="kefu serve")
    parser.add_argument("--port", type=int, default=int(os.environ.get("KEFU_PORT", "8000")))
    parser.add_argument("--host", default=os.environ.get("KEFU_HOST", "127.0.0.1"))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("KEFU_WEB_WORKERS", "2")))
    parser.add_argument("--no-worker", action="store_true", help="do not start the embedded task worker")
    args = parser.parse_args(argv)
    _django(["collectstatic", "--noinput", "-v", "0"])
    worker = None
    if not args.no_worker:
        worker = subprocess.Popen([sys.executable, "-m", "kefu.cli", "worker"])
    try:
        from gunicorn.app.wsgiapp import run

        sys.argv = [
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"{args.host}:{args.port}",
            "--workers",
            str(args.workers),
            "--access-logfile",
            "-",
            "--graceful-timeout",
            "5",
        ]
        print(f"Kefu is serving on http://{args.host}:{args.port}/", flush=True)
        run()
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=10)


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(__doc__)
        return
    command, rest = argv[0], argv[1:]
    if command == "serve":
        _serve(rest)
    elif command == "worker":
        _django(["run_huey", *rest])
    elif command == "migrate":
        _django(["migrate", *rest])
    elif command == "demo":
        _django(["migrate", "-v", "0"])
        _django(["kefu_demo", *rest])
    elif command == "import":
        _django(["kefu_import", *rest])
    elif command == "attendance":
        _django(["kefu_attendance", *rest])
    elif command in {"user", "token"}:
        _django(["kefu_user", command, *rest])
    elif command == "manage":
        _django(rest)
    else:
        print(f"kefu: unknown command {command!r}\n{__doc__}", file=sys.stderr)
        raise SystemExit(2)


if __name__ == "__main__":
    main()
