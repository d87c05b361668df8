"""Serving a stored upload: as a download under its cleaned original name, never cached."""

from __future__ import annotations

import io

from flask import send_file

from coopdesa.files.models import StoredFile


def send_stored(stored: StoredFile, *, inline: bool = False):
    response = send_file(io.BytesIO(stored.data), mimetype=stored.content_type,
                         as_attachment=not inline, download_name=stored.original_name,
                         max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response
