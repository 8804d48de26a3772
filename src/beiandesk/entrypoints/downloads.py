"""Headers for a stored upload served back (materials): never a page of this site.

``Content-Disposition`` names the file (RFC 6266 / RFC 5987, so a Chinese name survives);
``Content-Security-Policy: sandbox; default-src 'none'`` makes a file that a browser would render
as a document (an HTML page smuggled behind an image, a PDF viewer) run without scripts, origin
or requests; ``nosniff`` keeps the browser to the declared type.
"""

from __future__ import annotations

from urllib.parse import quote

SANDBOX_POLICY = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'"


def disposition(kind: str, filename: str) -> str:
    name = (filename or "").strip() or "material"
    ascii_name = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;' else "_" for ch in name)
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def material_headers(content_type: str, filename: str, size: int | None = None, *,
                     pdf_inline: bool = False) -> dict[str, str]:
    """API: PDFs are downloads (attachment), images show inline; both sandboxed."""
    inline = content_type.startswith("image/") or (pdf_inline and content_type == "application/pdf")
    headers = {
        "Content-Disposition": disposition("inline" if inline else "attachment", filename),
        "Content-Security-Policy": SANDBOX_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, max-age=300",
    }
    if size is not None:
        headers["Content-Length"] = str(size)
    return headers
