"""A loopback HTTP server answering for many host names at once (sweep tests and benchmarks).

Every ``siteN.sweep.test`` host gets a home page whose footer shows the filing number the test
registered for it (or a wrong / missing one), like the real sites the sweep visits. It is plain
asyncio (no framework), so at the sweep's concurrency the server is never the bottleneck.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable


class ManySites:
    def __init__(self, pages: Callable[[str], str | None]) -> None:
        self.pages = pages  # host name -> page HTML (None: 404)
        self.port = 0
        self.requests = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="many-sites")

    def __enter__(self) -> ManySites:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        loop = self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        server = loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=1024)
        )
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        loop.run_forever()
        server.close()
        tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for t in tasks:
            t.cancel()
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        loop.run_until_complete(server.wait_closed())
        loop.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                host = ""
                lines = head.split(b"\r\n")
                for line in lines[1:]:
                    if line[:5].lower() == b"host:":
                        host = line[5:].strip().decode("latin-1").split(":")[0].lower()
                path = lines[0].split(b" ")[1] if lines[0].count(b" ") >= 2 else b"/"
                if path.startswith(b"/by-name/"):  # http://127.0.0.1:port/by-name/<host>/
                    host = path[9:].split(b"/")[0].decode("latin-1").lower()
                self.requests += 1
                page = self.pages(host)
                body = (page or "<h1>404</h1>").encode()
                status = b"200 OK" if page is not None else b"404 Not Found"
                writer.write(
                    b"HTTP/1.1 " + status + b"\r\nContent-Type: text/html; charset=utf-8\r\n"
                    b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
                )
                await writer.drain()
        except (
            asyncio.IncompleteReadError,
            ConnectionError,
            asyncio.LimitOverrunError,
            asyncio.CancelledError,
        ):
            pass
        finally:
            writer.close()


def footer_page(filing_number: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>首页</title></head><body>"
        f"<main><h1>欢迎</h1><p>{'内容 ' * 200}</p></main>"
        f"<footer><a href='https://beian.miit.gov.cn/' target='_blank'>{filing_number}</a></footer>"
        f"</body></html>"
    )


def loopback_resolver(host: str, port: int) -> list[str]:
    return ["127.0.0.1"]


SWEEP_SUBJECT = "京ICP备20269999号"


def fill_websites(
    deps,
    n: int,
    port: int,
    page_of: Callable[[int, str], str | None],  # noqa: ANN001
    by_path: bool = False,
) -> dict[str, str]:
    """``n`` open websites ``siteN.sweep.test`` of one subject, served on ``port``; their pages
    (``page_of(i, filing_number)``; None: no page) keyed by host name. ``by_path``: home pages
    ``http://127.0.0.1:port/by-name/siteN.sweep.test/``, for a probe with the system resolver
    (the ``beiandesk sweep`` command itself)."""
    from datetime import UTC, datetime

    from beiandesk.domain.model import (
        Principal,
        Resource,
        Subject,
        SubjectKind,
        Website,
        WebsiteInfo,
        WebsiteStatus,
    )

    now = datetime.now(UTC)
    p = Principal("测试", "resident_id", "110101199003077777", "13800000000", "t@example.cn")
    pages: dict[str, str] = {}
    with deps.uow() as uow:
        subject = uow.subjects.add(
            Subject(
                0,
                None,
                SubjectKind.enterprise,
                "巡检测试有限公司",
                "北京",
                "uscc",
                "91110000MA00000000",
                SWEEP_SUBJECT,
                p,
            ),
            now,
        )
        batch = []
        for i in range(1, n + 1):
            host, number = f"site{i}.sweep.test", f"{SWEEP_SUBJECT}-{i}"
            page = page_of(i, number)
            if page is not None:
                pages[host] = page
            url = (
                f"http://127.0.0.1:{port}/by-name/{host}/" if by_path else f"http://{host}:{port}/"
            )
            info = WebsiteInfo(f"巡检网站{i}", (host,), url, p, ("企业官网",), Resource())
            batch.append(Website(0, subject.id, number, WebsiteStatus.open, info))
        uow.websites.add_many(batch, now)
        uow.commit()
    return pages
