"""What every running sandbox shares: a ``with`` block that starts and stops it, and where
each provider's API is served."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from cscor_tools.sandbox.config import provider_base_url
from cscor_tools.sandbox.errors import SandboxError


class Running:
    """A sandbox serving on 127.0.0.1 once started; ``_served_url`` says where, or None."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def _served_url(self) -> str | None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def url(self) -> str:
        served = self._served_url()
        if served is None:
            raise SandboxError("the sandbox is not running: use it in a `with` block, or start()")
        return served

    def base_url(self, provider: str) -> str:
        """What ``provider``'s client takes as its base (see :func:`provider_base_url`)."""
        return provider_base_url(self.url, provider)
