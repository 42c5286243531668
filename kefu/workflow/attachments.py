"""Safe attachments: what a file *is* is read from its first bytes, never from its name."""

from __future__ import annotations

from pathlib import Path

from django.utils.translation import gettext_lazy as _

from kefu.core.errors import ApplicationError

MAX_BYTES = 10 * 1024 * 1024
SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": ("image/png", ".png"),
    b"\xff\xd8\xff": ("image/jpeg", ".jpg"),
    b"GIF87a": ("image/gif", ".gif"),
    b"GIF89a": ("image/gif", ".gif"),
    b"%PDF-": ("application/pdf", ".pdf"),
}
EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
    "text/plain": ".txt",
}


def detect_type(head: bytes, name: str) -> tuple[str, str]:
    """(content type, extension) of an accepted file, or an ApplicationError."""
    for magic, found in SIGNATURES.items():
        if head.startswith(magic):
            return found
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", ".webp"
    if name.lower().endswith(".txt"):
        try:
            head.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            return "text/plain", ".txt"
    raise ApplicationError("attachment_type", _("Only images (PNG/JPEG/GIF/WEBP), PDF or plain text are accepted."))


def check(data: bytes, name: str) -> tuple[str, str]:
    if not data:
        raise ApplicationError("attachment_empty", _("The file is empty."))
    if len(data) > MAX_BYTES:
        raise ApplicationError("attachment_size", _("The file is larger than 10 MB."))
    return detect_type(data[:64], name)


def download_name(original_name: str, content_type: str, fallback: str = "file") -> str:
    """The uploader's stem with the extension of the detected type ("photo.html" that is a PNG → "photo.png")."""
    return (Path(original_name).stem or fallback) + EXTENSIONS.get(content_type, ".bin")
