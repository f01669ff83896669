"""Slack records as workspace rows: plain functions of the JSON Slack sends.

A member is a contact (its email only where the token has ``users:read.email``; bots and
deactivated members marked); a conversation is a channel; a message is a notification of
channel ``slack``, its id ``<channel>/<ts>`` (a ``ts`` names a message within its channel
only). Links to clients come from configuration (:class:`Links`): a connector never reads
the store, so a client's workspace id is derived from its source and source id with
``schema.make_id``, exactly as the connector that syncs the client derives it.

Each row function first checks its record against the shape of its kind (below, after
Slack's Web API description): a field of the wrong type, a required one missing or null, or
a ``ts`` that is no timestamp fails the page with an error naming the record and the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from cscor_tools.connectors.shapes import (
    ID,
    Shape,
    boolean,
    formatted,
    integer,
    obj,
    text,
    unix_time,
)
from cscor_tools.errors import ConfigError
from cscor_tools.records import Row
from cscor_tools.schema import from_unix, make_id, provenance

SOURCE = "slack"
#: a member Slack keeps for itself: not a bot by its flags, but no person either
SLACKBOT = "USLACKBOT"
#: how a message mentions a member: <@U123> or <@U123|name>
MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")


def read_ts(ts: str) -> datetime:
    """A Slack ``ts`` ("1512085950.000216") as an aware UTC time, to the microsecond; raises
    ValueError for text that is no such timestamp."""
    try:
        value = Decimal(ts)
    except InvalidOperation:
        raise ValueError(f"{ts!r} is not a Slack timestamp") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"{ts!r} is not a Slack timestamp")
    seconds = int(value)
    micros = int((value - seconds) * 1_000_000)
    try:
        return datetime.fromtimestamp(seconds, UTC).replace(microsecond=micros)
    except (OverflowError, OSError):
        raise ValueError(f"{ts!r} is out of range") from None


def ts_time(ts: Any) -> datetime | None:
    """A ``ts`` as a time; None for none. Rows read checked records only (see the shapes),
    so a ``ts`` that does not parse is None here only where reading orders records."""
    if not isinstance(ts, str) or not ts:
        return None
    try:
        return read_ts(ts)
    except ValueError:
        return None


# -- what each kind of record must look like where a row function reads it ----------------

TS = formatted(read_ts, "a Slack timestamp")
MEMBER = Shape({
    "id": ID, "updated": unix_time(required=True, nullable=False, fractional=True),
    **{k: text() for k in ("name", "real_name", "tz")},
    **{k: boolean() for k in ("is_bot", "is_restricted", "is_ultra_restricted", "deleted")},
    "profile": obj(Shape({k: text() for k in ("real_name", "first_name", "last_name",
                                              "email", "phone", "title")})),
})
_VALUE = obj(Shape({"value": text()}))
CONVERSATION = Shape({
    "id": ID, "created": unix_time(required=True, nullable=False), "name": text(),
    "topic": _VALUE, "purpose": _VALUE,
    "creator": text(), "user": text(), "num_members": integer(),
    **{k: boolean() for k in ("is_member", "is_im", "is_mpim", "is_private", "is_archived")},
})
MESSAGE = Shape({
    "ts": formatted(read_ts, "a Slack timestamp", required=True, nullable=False),
    "user": text(), "bot_id": text(), "text": text(), "subtype": text(),
    "edited": obj(Shape({"ts": TS})), "thread_ts": TS, "reply_count": integer(),
    "latest_reply": TS,
})
#: ``auth.test`` and ``team.info`` (None where the token may not read it), as one record
WORKSPACE = Shape({
    "auth": obj(Shape({"team_id": text(required=True, nullable=False), "url": text(),
                       "team": text()}), required=True, nullable=False),
    "team": obj(Shape({"id": text(), "name": text(), "domain": text()})),
})


@dataclass(frozen=True)
class Links:
    """Which client a channel or a member stands for, as configured (``channel_clients``,
    ``user_clients``: Slack id → ``"<source>:<source id>"`` of the client, e.g.
    ``"stripe:cus_Q1"``)."""

    channels: Mapping[str, str] = field(default_factory=dict)
    users: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Links:
        return cls(_client_map(options, "channel_clients"), _client_map(options, "user_clients"))

    def channel_client(self, channel: str | None) -> str | None:
        return self.channels.get(channel) if channel else None

    def user_client(self, user: str | None) -> str | None:
        return self.users.get(user) if user else None

    def message_client(self, channel: str, user: str | None, text: str) -> str | None:
        """The channel's client, else the author's, else that of a member it mentions."""
        found = self.channel_client(channel) or self.user_client(user)
        if found or not self.users:
            return found
        for mentioned in MENTION.findall(text):
            if mentioned in self.users:
                return self.users[mentioned]
        return None


def _client_map(options: Mapping[str, Any], key: str) -> dict[str, str]:
    raw = options.get(key) or {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"[connectors.slack.options] {key} must be a table of Slack id = "
                          '"source:source_id"')
    out = {}
    for slack_id, target in raw.items():
        source, _, source_id = str(target).partition(":")
        if not source or not source_id:
            raise ConfigError(f"[connectors.slack.options] {key}.{slack_id} = {target!r}: "
                              'name the client as "source:source_id", e.g. "stripe:cus_Q1"')
        out[str(slack_id)] = make_id("clients", source, source_id)
    return out


def workspace_row(auth: Mapping[str, Any], team: Mapping[str, Any] | None, *,
                  synced_at: datetime) -> Row:
    """``auth.test`` (and ``team.info`` where the token may read it) as an integration."""
    WORKSPACE.check({"auth": auth, "team": team})
    team = team or {}
    team_id = str(team.get("id") or auth["team_id"])
    row = provenance("integrations", SOURCE, team_id, synced_at=synced_at)
    url = str(auth.get("url") or "")
    host = url.split("://", 1)[-1].split("/", 1)[0] or None
    if host is None and team.get("domain"):
        host = f"{team['domain']}.slack.com"
    row.update(provider=SOURCE, kind="slack_workspace",
               name=team.get("name") or auth.get("team"), domain=host, region=None,
               status="connected")
    return row


def contact_row(user: Mapping[str, Any], links: Links, *, synced_at: datetime) -> Row:
    """A member: a person, a guest, a bot; deactivated members stay, marked as such."""
    MEMBER.check(user)
    profile = user.get("profile") or {}
    row = provenance("contacts", SOURCE, user["id"], synced_at=synced_at,
                     updated_at=from_unix(user.get("updated")))
    name = profile.get("real_name") or user.get("real_name") or user.get("name")
    row.update(
        client_id=links.user_client(user["id"]),
        name=name or None,
        first_name=profile.get("first_name") or None,
        last_name=profile.get("last_name") or None,
        email=profile.get("email") or None,
        phone=profile.get("phone") or None,
        title=profile.get("title") or None,
        handle=user.get("name") or None,
        timezone=user.get("tz") or None,
        is_bot=bool(user.get("is_bot")) or user["id"] == SLACKBOT,
        guest=bool(user.get("is_restricted") or user.get("is_ultra_restricted")),
        deactivated=bool(user.get("deleted")),
    )
    return row


def channel_kind(conversation: Mapping[str, Any]) -> str:
    if conversation.get("is_im"):
        return "im"
    if conversation.get("is_mpim"):
        return "mpim"
    return "private_channel" if conversation.get("is_private") else "public_channel"


def channel_row(conversation: Mapping[str, Any], links: Links, *, synced_at: datetime) -> Row:
    CONVERSATION.check(conversation)
    cid = conversation["id"]
    row = provenance("channels", SOURCE, cid, synced_at=synced_at,
                     created_at=from_unix(conversation.get("created")))
    row.update(
        provider=SOURCE,
        kind=channel_kind(conversation),
        name=conversation.get("name") or None,
        topic=(conversation.get("topic") or {}).get("value") or None,
        purpose=(conversation.get("purpose") or {}).get("value") or None,
        creator=conversation.get("creator") or None,
        dm_user=conversation.get("user") if conversation.get("is_im") else None,
        client_id=links.channel_client(cid),
        member_count=conversation.get("num_members"),
        is_member=bool(conversation.get("is_member") or conversation.get("is_im")),
        archived=bool(conversation.get("is_archived")),
    )
    return row


def message_id(channel: str, ts: str) -> str:
    return make_id("notifications", SOURCE, f"{channel}/{ts}")


def message_row(message: Mapping[str, Any], channel: str, links: Links, *,
                synced_at: datetime) -> Row:
    """A message, a thread's parent or one of its replies; ``channel`` is where it was read."""
    MESSAGE.check(message)
    ts = str(message["ts"])
    user = message.get("user") or None
    bot = message.get("bot_id") or None
    text = str(message.get("text") or "")
    edited = ts_time((message.get("edited") or {}).get("ts"))
    sent = ts_time(ts)
    parent = message.get("thread_ts")
    row = provenance("notifications", SOURCE, f"{channel}/{ts}", synced_at=synced_at,
                     created_at=sent, updated_at=edited or sent)
    row.update(
        channel="slack",
        client_id=links.message_client(channel, user, text),
        contact_id=make_id("contacts", SOURCE, user) if user else None,
        conversation=channel,
        conversation_id=make_id("channels", SOURCE, channel),
        sender=user or bot,
        sender_bot=bot is not None and (user is None or message.get("subtype") == "bot_message"),
        status="edited" if edited else "posted",
        sent_at=sent,
        thread_id=parent,
        reply_count=message.get("reply_count") if parent == ts else None,
        latest_reply_at=ts_time(message.get("latest_reply")) if parent == ts else None,
        edited_at=edited,
        body=text,
        message_ts=ts,
        subtype=message.get("subtype") or None,
    )
    return row


def message_rows(messages: Iterable[Mapping[str, Any]], channel: str, links: Links, *,
                 synced_at: datetime) -> list[Row]:
    return [message_row(m, channel, links, synced_at=synced_at) for m in messages]
