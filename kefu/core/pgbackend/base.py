"""Django's PostgreSQL backend, whose health check asks the connection's socket before the server.

A connection kept between requests is checked before its first use in a request (``CONN_HEALTH_CHECKS``,
issue 16 §5: after a PostgreSQL restart the first request of each thread must not meet the dead
connection). Django checks with a ``SELECT 1`` — a round trip on every request, a sixth of a signed
webhook's work (issue 20 §4). A server that ends a connection (a restart, a terminated backend)
says so on the socket before it closes it, so an idle connection whose socket has nothing to read
is alive; only one with something waiting (the server's goodbye, a notice) is asked with the query.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql.base import DatabaseWrapper as PostgresDatabaseWrapper


class DatabaseWrapper(PostgresDatabaseWrapper):
    def is_usable(self) -> bool:
        conn = self.connection
        if conn is None or conn.closed or getattr(conn, "broken", False):
            return False
        try:
            poller = select.poll()  # not select(): a busy worker's sockets number past 1,024
            poller.register(conn.fileno(), select.POLLIN | select.POLLPRI)
            waiting = poller.poll(0)
        except (OSError, ValueError):
            return False
        return not waiting or bool(super().is_usable())
