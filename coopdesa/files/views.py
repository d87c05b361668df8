"""Serving a stored upload: as a download under its cleaned original name, never cached."""

from __future__ import annotations

from flask import send_file

from coopdesa.files import storage
from coopdesa.files.models import StoredFile


def send_stored(stored: StoredFile, *, inline: bool = False):
    response = send_file(storage.open_stream(stored), mimetype=stored.content_type,
                         as_attachment=not inline, download_name=stored.original_name,
                         max_age=0)
    response.content_length = stored.size
    response.headers["Cache-Control"] = "private, no-store"
    return response
