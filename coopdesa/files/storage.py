"""Where the bytes of stored files live.

By default in the ``stored_file.data`` column, so that a backup of the database holds them.
When ``COOPDESA_S3_BUCKET`` is set, in an S3-compatible object store instead (several app
servers then share the files without a shared disk): the object key is
``COOPDESA_S3_PREFIX`` + ``StoredFile.name`` and ``data`` stays NULL. Every reader and writer
goes through :func:`put`, :func:`read` and :func:`open_stream`, never ``StoredFile.data``.

An object is written before the database transaction commits; if that transaction rolls
back (or the session closes without committing), the object is removed again, so no orphan
stays behind. Bytes read from the object store are checked against the row's SHA-256.
Rows written before the store was configured keep their bytes in ``data`` and are still read
from there.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass, field
from typing import IO, Any, Protocol

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

#: Bytes read at a time when streaming an object; objects larger than SPOOL_BYTES are
#: spooled to a temporary file instead of memory.
CHUNK = 1024 * 1024
SPOOL_BYTES = 8 * 1024 * 1024

_PENDING = "coopdesa.storage.pending"
_COMMITTED = "coopdesa.storage.committed"
_EXTENSION = "coopdesa.storage"


class StorageError(RuntimeError):
    """The bytes of a stored file cannot be written or read."""


class ChecksumError(StorageError):
    """The bytes read back do not have the SHA-256 recorded for the file."""


class _FileRow(Protocol):
    name: str
    sha256: str
    data: bytes | None


@dataclass
class S3Store:
    """An S3 bucket (AWS, MinIO, Ceph, ...) holding the files under ``prefix``."""

    bucket: str
    prefix: str = ""
    endpoint_url: str | None = None
    region: str | None = None
    _clients: dict[int, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_config(cls, config) -> S3Store | None:
        bucket = (config.get("S3_BUCKET") or "").strip()
        if not bucket:
            return None
        return cls(bucket=bucket, prefix=config.get("S3_PREFIX") or "",
                   endpoint_url=config.get("S3_ENDPOINT_URL") or None,
                   region=config.get("S3_REGION") or None)

    @property
    def client(self):
        """A boto3 client of this process (clients are not shared across a fork)."""
        pid = os.getpid()
        client = self._clients.get(pid)
        if client is None:
            import boto3  # only when an object store is configured
            from botocore.config import Config as BotoConfig

            session = boto3.session.Session()
            client = session.client(
                "s3", endpoint_url=self.endpoint_url, region_name=self.region,
                config=BotoConfig(retries={"max_attempts": 3, "mode": "standard"},
                                  connect_timeout=10, read_timeout=60))
            self._clients = {pid: client}
        return client

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def describe(self) -> str:
        where = f" at {self.endpoint_url}" if self.endpoint_url else ""
        return f"s3://{self.bucket}/{self.prefix}{where}"

    def check(self) -> None:
        """Raise StorageError unless the bucket answers (at start-up)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(
                f"COOPDESA_S3_BUCKET is set but the bucket {self.describe()} cannot be "
                f"reached: {exc}. Check COOPDESA_S3_BUCKET, COOPDESA_S3_ENDPOINT_URL, "
                "COOPDESA_S3_REGION and the AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY "
                "variables, or unset COOPDESA_S3_BUCKET to keep files in the database."
            ) from exc

    def put_bytes(self, name: str, data: bytes, sha256: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.put_object(Bucket=self.bucket, Key=self.key(name), Body=data,
                                   Metadata={"sha256": sha256})
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"cannot write {self.key(name)} to {self.describe()}: "
                               f"{exc}") from exc

    def put_file(self, name: str, handle: IO[bytes], sha256: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.upload_fileobj(handle, self.bucket, self.key(name),
                                       ExtraArgs={"Metadata": {"sha256": sha256}})
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"cannot write {self.key(name)} to {self.describe()}: "
                               f"{exc}") from exc

    def copy_to(self, name: str, sha256: str, out: IO[bytes]) -> int:
        """Write the object into ``out``, checking its SHA-256; return its size."""
        from botocore.exceptions import BotoCoreError, ClientError

        digest = hashlib.sha256()
        size = 0
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self.key(name))["Body"]
            try:
                for chunk in iter(lambda: body.read(CHUNK), b""):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
            finally:
                body.close()
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"cannot read {self.key(name)} from {self.describe()}: "
                               f"{exc}") from exc
        if digest.hexdigest() != sha256:
            raise ChecksumError(
                f"stored file {name}: the object {self.key(name)} in {self.describe()} has "
                f"SHA-256 {digest.hexdigest()}, but {sha256} was recorded; refusing to serve "
                "changed or damaged bytes")
        return size

    def delete(self, name: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.key(name))


# --- configuration -------------------------------------------------------------------------

def init_app(app: Flask) -> None:
    """Set up the object store if configured; fail at start-up if it cannot be reached."""
    store = S3Store.from_config(app.config)
    if store is not None:
        store.check()
    app.extensions[_EXTENSION] = store


def object_store(app: Flask | None = None) -> S3Store | None:
    """The configured object store, or None when files stay in the database."""
    app = app or current_app
    if _EXTENSION not in app.extensions:
        app.extensions[_EXTENSION] = S3Store.from_config(app.config)
    return app.extensions[_EXTENSION]


# --- writing -------------------------------------------------------------------------------

def put(stored, data: bytes, *, session: Session | None = None) -> None:
    """Give ``stored`` its bytes (and their size and SHA-256) before it is committed.

    With an object store the object is written now and removed again if the transaction
    does not commit; ``stored.data`` stays NULL. Without one the bytes go to ``data``.
    """
    data = bytes(data)
    stored.size = len(data)
    stored.sha256 = hashlib.sha256(data).hexdigest()
    store = object_store()
    if store is None:
        stored.data = data
        return
    if session is None:
        from coopdesa.extensions import db

        session = db.session()
    stored.data = None
    store.put_bytes(stored.name, data, stored.sha256)
    session.info.setdefault(_PENDING, []).append(
        (session.get_nested_transaction(), store, stored.name))


def _remove(entries) -> None:
    for _tag, store, name in entries:
        try:
            store.delete(name)
        except Exception as exc:  # noqa: BLE001 - cleanup must not hide the real error
            log.warning("could not remove the orphan object %s: %s", store.key(name), exc)


@sa.event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.get_nested_transaction() is None and session.info.get(_PENDING):
        session.info[_COMMITTED] = True


@sa.event.listens_for(Session, "after_soft_rollback")
def _after_soft_rollback(session: Session, previous_transaction) -> None:
    """A rolled-back SAVEPOINT removes the objects written inside it."""
    pending = session.info.get(_PENDING)
    if not pending or not previous_transaction.nested:
        return

    def inside(tag) -> bool:
        while tag is not None:
            if tag is previous_transaction:
                return True
            tag = tag.parent
        return False

    gone = [entry for entry in pending if inside(entry[0])]
    if gone:
        session.info[_PENDING] = [entry for entry in pending if not inside(entry[0])]
        _remove(gone)


@sa.event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction) -> None:
    """The outermost transaction ended: keep committed objects, remove the others."""
    if transaction.parent is not None:
        return
    pending = session.info.pop(_PENDING, None)
    committed = session.info.pop(_COMMITTED, False)
    if pending and not committed:
        _remove(pending)


# --- reading -------------------------------------------------------------------------------

def _in_database(stored: _FileRow) -> bytes | None:
    data = stored.data
    return None if data is None else bytes(data)


def _store_for(stored: _FileRow) -> S3Store:
    store = object_store()
    if store is None:
        raise StorageError(
            f"stored file {stored.name} has no bytes in the database and no object store "
            "is configured (COOPDESA_S3_BUCKET)")
    return store


def read(stored: _FileRow) -> bytes:
    """The bytes of a stored file (an ORM object or a row with name, sha256 and data)."""
    data = _in_database(stored)
    if data is not None:
        return data
    store = _store_for(stored)
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as out:
        store.copy_to(stored.name, stored.sha256, out)
        out.seek(0)
        return out.read()


def open_stream(stored: _FileRow) -> IO[bytes]:
    """A binary file object positioned at the start of the bytes, already checked against
    the SHA-256 (large objects are spooled to a temporary file, not kept in memory)."""
    import io

    data = _in_database(stored)
    if data is not None:
        return io.BytesIO(data)
    store = _store_for(stored)
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - returned
    try:
        store.copy_to(stored.name, stored.sha256, out)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out
