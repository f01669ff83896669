"""Build the Slack cassettes from the examples in Slack's published spec (see README.md here).

    python cassettes/slack/build_cassettes.py [path/to/slack_web_openapi_v2.json]

Reads the example responses of the six methods the connector calls from Slack's OpenAPI
(Swagger 2.0) spec (default: ``../shared/specs/slack/`` next to the repository), keeps them
verbatim in ``examples.json``, and writes two vcrpy cassettes: a first sync and the next,
incremental one. Requests carry no Authorization header: it is what
``filter_headers=["authorization"]`` removes when a cassette is recorded for real.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DEFAULT_SPEC = REPO.parent / "shared" / "specs" / "slack" / "slack_web_openapi_v2.json"
BASE = "https://slack.com/api/"
METHODS = ("auth.test", "team.info", "users.list", "conversations.list",
           "conversations.history", "conversations.replies")
HEADER = ("# Built by cassettes/slack/build_cassettes.py from the examples in Slack's published\n"
          "# spec (slack_web_openapi_v2.json): NOT a recording of a real workspace.\n")


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_SPEC
    paths = json.loads(source.read_text())["paths"]
    examples = {m: paths[f"/{m}"]["get"]["responses"]["200"]["examples"]["application/json"]
                for m in METHODS}
    (HERE / "examples.json").write_text(json.dumps(examples, indent=1, sort_keys=True) + "\n")
    _write("full_sync.yaml", full_sync(examples))
    _write("incremental.yaml", incremental(examples))
    return 0


def _last(body: dict[str, Any], key: str) -> dict[str, Any]:
    """The page after an example that says more follows: empty, and the last."""
    out = {"ok": True, key: [], "response_metadata": {"next_cursor": ""}}
    if "cache_ts" in body:
        out["cache_ts"] = body["cache_ts"]
    return out


def _interaction(method: str, body: Any) -> dict[str, Any]:
    return {
        "request": {"body": None, "headers": {"Accept": ["application/json"]},
                    "method": "GET", "uri": BASE + method},
        "response": {
            "status": {"code": 200, "message": "OK"},
            "headers": {"Content-Type": ["application/json; charset=utf-8"]},
            "body": {"string": json.dumps(body, sort_keys=True)},
        },
    }


def _common(ex: dict[str, Any]) -> list[dict[str, Any]]:
    """Planning lists the conversations, then the workspace, members and channels streams."""
    conversations = [_interaction("conversations.list", ex["conversations.list"]),
                     _interaction("conversations.list", _last(ex["conversations.list"],
                                                              "channels"))]
    return [
        *conversations,
        _interaction("auth.test", ex["auth.test"]),
        _interaction("team.info", ex["team.info"]),
        _interaction("users.list", ex["users.list"]),
        _interaction("users.list", _last(ex["users.list"], "members")),
        *copy.deepcopy(conversations),
    ]


def _parent(ex: dict[str, Any]) -> dict[str, Any]:
    """The thread's parent as the history lists it: the replies example's first message."""
    parent = copy.deepcopy(ex["conversations.replies"]["messages"][0])
    replies = ex["conversations.replies"]["messages"][1:]
    parent["latest_reply"] = replies[-1]["ts"]
    return parent


def full_sync(ex: dict[str, Any]) -> list[dict[str, Any]]:
    """#general: the history example (two messages, more to come), then a page holding the
    replies example's thread parent, then its replies (the example, then an empty last
    page); #random: the history example's messages, as its only page."""
    history = ex["conversations.history"]
    general_last = {"ok": True, "has_more": False, "messages": [_parent(ex)], "pin_count": 0}
    random = {"ok": True, "has_more": False, "messages": history["messages"], "pin_count": 0}
    return [
        *_common(ex),
        _interaction("conversations.history", history),
        _interaction("conversations.history", general_last),
        _interaction("conversations.replies", ex["conversations.replies"]),
        _interaction("conversations.replies", {"ok": True, "has_more": False, "messages": []}),
        _interaction("conversations.history", random),
    ]


def incremental(ex: dict[str, Any]) -> list[dict[str, Any]]:
    """The next sync, within the lookback: in #general the first example message was edited
    and the second deleted; #random is unchanged."""
    messages = copy.deepcopy(ex["conversations.history"]["messages"])
    edited = messages[0]
    edited["text"] = "I find you punny and would like to smell your nose better"
    edited["edited"] = {"user": edited["user"], "ts": "1512090000.000100"}
    general = {"ok": True, "has_more": False, "messages": [edited], "pin_count": 0}
    random = {"ok": True, "has_more": False,
              "messages": ex["conversations.history"]["messages"], "pin_count": 0}
    return [
        *_common(ex),
        _interaction("conversations.history", general),
        _interaction("conversations.history", random),
    ]


def _write(name: str, interactions: list[dict[str, Any]]) -> None:
    text = yaml.safe_dump({"interactions": interactions, "version": 1}, sort_keys=False,
                          allow_unicode=True)
    (HERE / name).write_text(HEADER + text)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
