"""The one writer interface every format implements: open with a schema, write batches, close.

A writer streams: each batch is encoded and handed to the sink as it comes, so memory does not
grow with the number of rows. The sink is counted and hashed on the way through, so closing a
writer gives its rows, bytes and sha256 without reading the file back.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import IO, ClassVar

import pyarrow as pa

#: how every text format writes a timestamp: fixed-width UTC with microseconds and Z, so text
#: order is time order and equal instants are equal strings
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


@dataclass(frozen=True)
class WriteResult:
    """What a closed writer wrote."""

    rows: int
    bytes: int
    sha256: str


class HashingSink:
    """A write-only file that counts and hashes what passes through to ``target``."""

    def __init__(self, target: IO[bytes]) -> None:
        self._target = target
        self._sha = hashlib.sha256()
        self.bytes = 0
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> int:
        view = memoryview(data)
        self._sha.update(view)
        self._target.write(view)
        self.bytes += view.nbytes
        return view.nbytes

    def tell(self) -> int:
        return self.bytes

    def flush(self) -> None:
        self._target.flush()

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        # Closing the target is its owner's business (a bundle file, a zip entry).
        self.closed = True

    def hexdigest(self) -> str:
        return self._sha.hexdigest()


class FormatWriter(ABC):
    """Writes record batches of one schema to a binary sink in one format."""

    #: the --format name
    name: ClassVar[str]
    extension: ClassVar[str]
    media_type: ClassVar[str]
    #: the Frictionless resource format
    resource_format: ClassVar[str]
    #: True when the bytes are already compressed (a zip stores them as they are)
    compressed: ClassVar[bool] = False

    def __init__(self, sink: IO[bytes], schema: pa.Schema) -> None:
        self.schema = schema
        self._sink = HashingSink(sink)
        self._rows = 0
        self._closed = False
        self._open()

    def write(self, batch: pa.RecordBatch) -> None:
        """Encode and write one batch; its schema must be the writer's."""
        if self._closed:
            raise ValueError("write to a closed writer")
        if not batch.schema.equals(self.schema):
            raise ValueError(f"batch schema differs from the writer's:\n{batch.schema}")
        if batch.num_rows:
            self._write(batch)
            self._rows += batch.num_rows

    def close(self) -> WriteResult:
        """Finish the file (footer, closing bracket) and say what was written."""
        if not self._closed:
            self._finish()
            self._sink.flush()
            self._closed = True
        return WriteResult(self._rows, self._sink.bytes, self._sink.hexdigest())

    def _open(self) -> None:  # noqa: B027 - a hook most formats leave empty
        """Write what comes before the first row (a header), if anything."""

    @abstractmethod
    def _write(self, batch: pa.RecordBatch) -> None: ...

    def _finish(self) -> None:  # noqa: B027 - a hook most formats leave empty
        """Write what comes after the last row, if anything."""
