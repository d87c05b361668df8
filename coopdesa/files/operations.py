"""Accepting an upload: content sniffed from its first bytes, size capped, name generated."""

from __future__ import annotations

import hashlib
import re
import secrets

from flask_babel import gettext as _

from coopdesa.errors import ValidationError
from coopdesa.extensions import db
from coopdesa.files import storage
from coopdesa.files.models import StoredFile

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
#: Magic numbers of the formats we accept, and the extension we give them.
SIGNATURES = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
)
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def sniff(data: bytes) -> tuple[str, str] | None:
    """(content type, extension) recognised from the bytes, or None."""
    for magic, content_type, extension in SIGNATURES:
        if data.startswith(magic):
            return content_type, extension
    return None


def store_generated_pdf(data: bytes, original_name: str) -> StoredFile:
    """Keep a PDF the app rendered itself (agreements, reports, berita acara) under a
    generated name, with its SHA-256."""
    stored = StoredFile(
        name=f"{secrets.token_hex(16)}.pdf", original_name=original_name[:200],
        content_type="application/pdf", size=len(data),
        sha256=hashlib.sha256(data).hexdigest())
    storage.put(stored, data)
    db.session.add(stored)
    db.session.flush()
    return stored


def store_upload(data: bytes, original_name: str | None, *, field: str, user=None,
                 max_bytes: int = MAX_UPLOAD_BYTES) -> StoredFile:
    """Keep an uploaded PDF, PNG or JPEG; refuse anything else by name of ``field``."""
    if not data:
        message = _("Berkas kosong; pilih berkas PDF atau gambar (PNG/JPEG).")
        raise ValidationError(message, fields={field: [message]})
    if len(data) > max_bytes:
        message = _("Berkas terlalu besar: paling besar %(mb)d MB.", mb=max_bytes // 2**20)
        raise ValidationError(message, fields={field: [message]})
    kind = sniff(data)
    if kind is None:
        message = _("Isi berkas bukan PDF, PNG atau JPEG (dilihat dari isinya, bukan namanya).")
        raise ValidationError(message, fields={field: [message]})
    content_type, extension = kind
    cleaned = _UNSAFE.sub("_", (original_name or "").replace("\\", "/").rsplit("/", 1)[-1])
    stored = StoredFile(
        name=f"{secrets.token_hex(16)}.{extension}",
        original_name=(cleaned.strip(" .") or f"berkas.{extension}")[:200],
        content_type=content_type, size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        created_by_id=getattr(user, "id", None),
    )
    storage.put(stored, data)
    db.session.add(stored)
    db.session.flush()
    return stored
