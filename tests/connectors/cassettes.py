"""The recording scaffold the cassette tests share: a recorder that keeps no credential, the
bodies of a cassette's answers, and the credential a replay or a recording uses.

Cassettes are played back (``CSCOR_VCR_RECORD`` unset) or recorded against a real account
(``CSCOR_VCR_RECORD=all``, with the provider's credential in its variable). Requests match
on method and path; every header but ``kept_headers`` is dropped before a cassette is
written, and ``scrub`` cleans request URIs and (when ``scrub_bodies``) response bodies of
what a provider may echo back, such as a payment's client secret.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import vcr
import yaml

RECORD_MODE = os.environ.get("CSCOR_VCR_RECORD", "none")


@dataclass(frozen=True)
class Scrubber:
    """What a cassette may keep of an exchange."""

    kept_headers: frozenset[str]
    scrub: Callable[[str], str]
    scrub_bodies: bool = False

    def request(self, request: Any) -> Any:
        request.headers = {k: v for k, v in request.headers.items()
                           if k.lower() in self.kept_headers}
        request.uri = self.scrub(request.uri)
        return request

    def response(self, response: dict[str, Any]) -> dict[str, Any]:
        response["headers"] = {k: v for k, v in response["headers"].items()
                               if k.lower() in self.kept_headers}
        body = response["body"].get("string")
        if self.scrub_bodies:
            # vcrpy runs this hook on playback too, with bytes: keep the type it was given
            if isinstance(body, bytes):
                response["body"]["string"] = self.scrub(body.decode()).encode()
            elif isinstance(body, str):
                response["body"]["string"] = self.scrub(body)
        return response


def recorder(library: Path, scrubber: Scrubber) -> vcr.VCR:
    """A recorder over the cassettes in ``library`` that writes only what ``scrubber`` keeps."""
    return vcr.VCR(
        cassette_library_dir=str(library),
        record_mode=RECORD_MODE,
        match_on=["method", "path"],
        filter_headers=["authorization", "cookie"],
        before_record_request=scrubber.request,
        before_record_response=scrubber.response,
        decode_compressed_response=True,
    )


def bodies(cassette: Path, endpoint: str) -> list[dict[str, Any]]:
    """The JSON bodies answered to requests whose path ends with ``endpoint``, in order."""
    data = yaml.safe_load(cassette.read_text())
    return [json.loads(i["response"]["body"]["string"]) for i in data["interactions"]
            if i["request"]["uri"].split("?")[0].endswith(endpoint)]


def credential(env_var: str, fake: str) -> str:
    """The credential a sync against the cassettes uses: ``fake`` on playback, the real one
    from ``env_var`` when recording."""
    return os.environ.get(env_var, fake) if RECORD_MODE != "none" else fake
