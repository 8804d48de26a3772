"""A quiet threaded HTTP server on 127.0.0.1 for adapter tests (probe, RDAP)."""

from __future__ import annotations

from http.server import ThreadingHTTPServer


class QuietServer(ThreadingHTTPServer):
    """Daemon handler threads, and a client hanging up mid-answer is not an error to print."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass
