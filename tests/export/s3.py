"""moto's S3 server on 127.0.0.1 for the tests that write to object storage."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

SECRET = "moto-secret-never-shown"
BUCKET = "cscor-bundles"


@contextmanager
def moto_s3() -> Iterator[dict[str, str]]:
    """Start the server with one bucket; yields the environment every S3 client (ours, and a
    worker process's) reads, set in ``os.environ`` meanwhile."""
    import boto3
    import fsspec
    import s3fs
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    env = {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "moto-key",
           "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_DEFAULT_REGION": "us-east-1"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    fsspec.config.conf.clear()
    # file systems are cached by their arguments, not the environment: one made for an
    # earlier server (or endpoint) must not answer for this one
    s3fs.S3FileSystem.clear_instance_cache()
    try:
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=BUCKET)
        yield env
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        s3fs.S3FileSystem.clear_instance_cache()
        server.stop()


def objects(prefix: str) -> dict[str, bytes]:
    """Every object under ``prefix`` of the bucket, by the rest of its key."""
    import s3fs

    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    found = {}
    for path in fs.find(f"{BUCKET}/{prefix}"):
        _, at, rest = path.partition(prefix)
        if at:  # a listing taken mid-write may name the folder itself ("…/killed")
            found[rest] = fs.cat(path)
    return found
