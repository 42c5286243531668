"""The ``kefu`` console script: a thin front over the Django management commands.

kefu serve [--port N] [--host H] [--workers N] [--sandbox]   web server (gunicorn) + embedded task worker
kefu sandbox                                     the platforms' sandbox fakes (the demo's connectors)
kefu worker                                      the task worker (Huey consumer) alone
kefu migrate                                     apply database migrations
kefu demo                                        migrate, load demo data, print the demo logins
kefu import staff FILE [--json]
kefu import orders FILE --shop NAME [--create-shop] [--json]
kefu user create USERNAME --password P --position POSITION [--staff EMPLOYEE_NO]
kefu token create USERNAME
kefu connector add taobao --name N --shop SHOP --app-key K --app-secret S --session SK [--gateway URL]
kefu connector add dingtalk --name N --app-key K --app-secret S [--gateway URL]
kefu connector set NAME [--session SK] [--session-expires ISO] [--enable|--disable] …
kefu connector list [--json]
kefu sync [--connector NAME] [--since ISO] [--stream S] [--json]   run connectors now
kefu manage ARGS…                                any other management command
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time


def _django(argv: list[str]) -> None:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["kefu", *argv])


def _serve(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="kefu serve")
    parser.add_argument("--port", type=int, default=int(os.environ.get("KEFU_PORT", "8000")))
    parser.add_argument("--host", default=os.environ.get("KEFU_HOST", "127.0.0.1"))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("KEFU_WEB_WORKERS", "2")))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("KEFU_WEB_THREADS", "16")))
    parser.add_argument("--no-worker", action="store_true", help="do not start the embedded task worker")
    parser.add_argument("--sandbox", action="store_true", help="also serve the platforms' sandbox fakes (the demo)")
    args = parser.parse_args(argv)
    _django(["collectstatic", "--noinput", "-v", "0"])
    worker = None if args.no_worker else WorkerSupervisor()
    if worker is not None:
        worker.start()
    fakes = WorkerSupervisor([sys.executable, "-m", "kefu.cli", "sandbox"]) if args.sandbox else None
    if fakes is not None:
        fakes.start()
    try:
        from gunicorn.app.wsgiapp import run

        # uvicorn workers (ADR 0018): the live streams are async and hold no thread; every other
        # request runs on a pool of --threads threads per worker (config.asgi)
        os.environ["KEFU_WEB_THREADS"] = str(args.threads)
        sys.argv = [
            "gunicorn",
            "config.asgi:application",
            "--bind",
            f"{args.host}:{args.port}",
            "--workers",
            str(args.workers),
            "--worker-class",
            "uvicorn_worker.UvicornWorker",
            # gunicorn's control socket is one file per user ($HOME/.gunicorn/gunicorn.ctl): a second
            # server would take over the first one's; Kefu does not use it
            "--no-control-socket",
            "--access-logfile",
            "-",
            "--graceful-timeout",
            "5",
        ]
        print(f"Kefu is serving on http://{args.host}:{args.port}/", flush=True)
        run()
    finally:
        if worker is not None:
            worker.stop()
        if fakes is not None:
            fakes.stop()


class WorkerSupervisor:
    """Runs the embedded task worker beside the web server and starts it again whenever it dies
    (a crash, the memory limit): backing off from 1 s to 60 s while it keeps dying young."""

    def __init__(self, argv: list[str] | None = None, check_every: float = 1.0) -> None:
        self.argv = argv or [sys.executable, "-m", "kefu.cli", "worker"]
        self.check_every = check_every
        self.process: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="kefu-worker-supervisor", daemon=True)

    def start(self) -> None:
        self.process = subprocess.Popen(self.argv)  # noqa: S603 (our own interpreter and module)
        self._thread.start()

    def _watch(self) -> None:
        delay = 1.0
        started = time.monotonic()
        while not self._stopping.wait(self.check_every):
            if self.process is None or self.process.poll() is None:
                continue
            code = self.process.returncode
            print(f"kefu: the task worker stopped (exit {code}); starting it again in {delay:.0f} s", flush=True)
            if self._stopping.wait(delay):
                return
            delay = 1.0 if time.monotonic() - started > 60 else min(60.0, delay * 2)
            started = time.monotonic()
            self.process = subprocess.Popen(self.argv)  # noqa: S603
            self.restarts += 1

    def stop(self) -> None:
        self._stopping.set()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def _limit_memory() -> None:
    """The worker parses large and untrusted uploads: cap its address space (KEFU_WORKER_MEMORY_MB,
    default 4096) so a hostile file ends in a MemoryError in that job, never in the machine's OOM."""
    megabytes = int(os.environ.get("KEFU_WORKER_MEMORY_MB", "4096"))
    if megabytes <= 0:
        return
    try:
        import resource

        limit = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):  # not on this platform: the file checks still apply
        pass


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
        _limit_memory()
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
    elif command == "connector":
        _django(["kefu_connector", *rest])
    elif command == "sync":
        _django(["kefu_sync", *rest])
    elif command == "sandbox":
        _django(["kefu_sandbox", *rest])
    elif command in {"user", "token"}:
        _django(["kefu_user", command, *rest])
    elif command == "manage":
        _django(rest)
    else:
        print(f"kefu: unknown command {command!r}\n{__doc__}", file=sys.stderr)
        raise SystemExit(2)


if __name__ == "__main__":
    main()
