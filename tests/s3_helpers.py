"""An S3-compatible object store for tests: moto's server on 127.0.0.1 and a free port,
never a real network. Import ``moto_server_fixture`` and ``s3_fixture`` into a test module
to get the fixtures ``moto_server`` and ``s3``."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator

import pytest

from coopdesa.files.storage import S3Store

AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    # No shared config or instance metadata: nothing from outside the test reaches boto3.
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(name="moto_server", scope="session")
def moto_server_fixture() -> Iterator[str]:
    """The endpoint URL of a moto S3 server running in a thread of this process."""
    from moto.server import ThreadedMotoServer

    with pytest.MonkeyPatch.context() as patch:
        for name, value in AWS_ENV.items():
            patch.setenv(name, value)
        port = _free_port()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.stop()


def make_bucket(endpoint: str) -> str:
    import boto3

    name = f"coopdesa-test-{secrets.token_hex(4)}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(
        Bucket=name)
    return name


@pytest.fixture(name="s3")
def s3_fixture(app, moto_server) -> Iterator[S3Store]:
    """Files of the test app go to a new bucket (prefix ``coopdesa/``) during the test."""
    store = S3Store(bucket=make_bucket(moto_server), prefix="coopdesa/",
                    endpoint_url=moto_server, region="us-east-1")
    previous = app.extensions.get("coopdesa.storage")
    app.extensions["coopdesa.storage"] = store
    try:
        yield store
    finally:
        app.extensions["coopdesa.storage"] = previous


def object_keys(store: S3Store) -> list[str]:
    listing = store.client.list_objects_v2(Bucket=store.bucket)
    return sorted(item["Key"] for item in listing.get("Contents", []))
