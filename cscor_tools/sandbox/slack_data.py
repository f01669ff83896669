"""The Slack workspace's state: team, members, channels, messages and threads.

Shapes follow ``shared/specs/slack/slack_web_openapi_v2.json`` (Swagger 2.0, last regenerated
in 2020) where it agrees with the current docs at docs.slack.dev; where it does not, the docs
win: messages carry ``edited`` ({user, ts}) after an edit, which the spec's message object
omits, and history and replies carry ``response_metadata`` when there are more pages.
Deleted messages leave their channel, as they do at Slack; a thread's parent counts its live
replies.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left
from dataclasses import dataclass, field
from typing import Any

from cscor_tools.sandbox.clock import US, SandboxClock, slack_ts
from cscor_tools.sandbox.ids import IdFactory
from cscor_tools.sandbox.people import Person

DAY_US = 86_400 * US
TEAM_NAME = "Cscor Sandbox"
TEAM_DOMAIN = "cscor-sandbox"
EMAIL_DOMAIN = "cscor-sandbox.example"
BOT_NAME = "cscor-bot"

@dataclass(slots=True, eq=False)
class SlackUser:
    id: str
    person: Person | None
    name: str
    real_name: str
    title: str
    tz: tuple[str, str, int]
    updated: int  # seconds
    is_admin: bool = False
    is_owner: bool = False
    is_bot: bool = False
    is_restricted: bool = False
    deleted: bool = False
    bot_id: str | None = None
    app_id: str | None = None
    cache: bytes | None = None


@dataclass(slots=True, eq=False)
class Message:
    ts: int  # microseconds; also the message's id within its channel
    text: str
    user: str | None = None
    subtype: str | None = None
    bot_id: str | None = None
    username: str | None = None
    thread_ts: int | None = None  # set on a thread's parent and on its replies
    parent_user: str | None = None
    replies: list[Message] = field(default_factory=list)
    edited: tuple[str, int] | None = None
    live: bool = True


@dataclass(slots=True, eq=False)
class Channel:
    id: str
    name: str
    created: int  # seconds
    creator: str
    purpose: str
    is_member: bool
    is_archived: bool = False
    is_general: bool = False
    is_private: bool = False
    members: int = 0
    #: top-level messages (thread parents included), oldest first
    messages: list[Message] = field(default_factory=list)
    #: every message by ts, replies included
    by_ts: dict[int, Message] = field(default_factory=dict)

    def add(self, message: Message) -> None:
        self.by_ts[message.ts] = message
        if message.thread_ts is not None and message.thread_ts != message.ts:
            parent = self.by_ts[message.thread_ts]
            parent.thread_ts = parent.ts
            parent.replies.append(message)
        elif not self.messages or message.ts > self.messages[-1].ts:
            self.messages.append(message)
        else:
            self.messages.insert(bisect_left([m.ts for m in self.messages], message.ts), message)

    def remove(self, message: Message) -> None:
        message.live = False
        del self.by_ts[message.ts]
        if message.thread_ts is not None and message.thread_ts != message.ts:
            parent = self.by_ts.get(message.thread_ts)
            if parent is not None:
                parent.replies.remove(message)
        else:
            self.messages.remove(message)


def message_json(msg: Message, team: str) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "message"}
    if msg.subtype:
        out["subtype"] = msg.subtype
    out["text"] = msg.text
    if msg.user:
        out["user"] = msg.user
    if msg.bot_id:
        out["bot_id"] = msg.bot_id
        out["username"] = msg.username
    out["ts"] = slack_ts(msg.ts)
    if msg.user and not msg.subtype:
        out["team"] = team
    if msg.edited:
        out["edited"] = {"user": msg.edited[0], "ts": slack_ts(msg.edited[1])}
    if msg.thread_ts is not None:
        out["thread_ts"] = slack_ts(msg.thread_ts)
        if msg.thread_ts == msg.ts:
            live = msg.replies
            out["reply_count"] = len(live)
            out["reply_users_count"] = len({r.user for r in live})
            if live:
                out["latest_reply"] = slack_ts(live[-1].ts)
                out["reply_users"] = sorted({r.user for r in live if r.user})
            out["subscribed"] = False
        else:
            out["parent_user_id"] = msg.parent_user
    return out


class SlackData:
    """The workspace as the sandbox's bot user sees it."""

    def __init__(self, seed: int, clock: SandboxClock) -> None:
        self.ids = IdFactory(seed)
        self.clock = clock
        self.team_id = self.ids.slack("T", "team")
        self.app_id = self.ids.slack("A", "app")
        self.bot_id = self.ids.slack("B", "bot")
        self.users: list[SlackUser] = []
        self.channels: list[Channel] = []
        self.bot_user: SlackUser | None = None

    def channel(self, channel_id: str) -> Channel | None:
        for channel in self.channels:
            if channel.id == channel_id:
                return channel
        return None

    def user_json(self, u: SlackUser) -> dict[str, Any]:
        first = u.person.first_name if u.person else u.real_name
        last = u.person.last_name if u.person else ""
        avatar = hashlib.md5(u.id.encode()).hexdigest()
        images = {
            f"image_{size}": f"https://secure.gravatar.com/avatar/{avatar}.jpg?s={size}&d=mp"
            for size in (24, 32, 48, 72, 192, 512)
        }
        profile: dict[str, Any] = {
            "title": u.title,
            "phone": u.person.phone if u.person and not u.is_bot else "",
            "skype": "",
            "real_name": u.real_name,
            "real_name_normalized": u.real_name,
            "display_name": "" if u.is_bot else u.name,
            "display_name_normalized": "" if u.is_bot else u.name,
            "fields": None,
            "status_text": "",
            "status_emoji": "",
            "status_expiration": 0,
            "avatar_hash": avatar[:12],
            "first_name": first,
            "last_name": last,
            **images,
            "team": self.team_id,
        }
        if u.person is not None and not u.is_bot:
            profile["email"] = u.person.email
        if u.is_bot:
            profile["bot_id"] = u.bot_id
            profile["api_app_id"] = u.app_id
            profile["always_active"] = True
        tz, tz_label, tz_offset = u.tz
        return {
            "id": u.id,
            "team_id": self.team_id,
            "name": u.name,
            "deleted": u.deleted,
            "color": avatar[-6:],
            "real_name": u.real_name,
            "tz": tz,
            "tz_label": tz_label,
            "tz_offset": tz_offset,
            "profile": profile,
            "is_admin": u.is_admin,
            "is_owner": u.is_owner,
            "is_primary_owner": u.is_owner,
            "is_restricted": u.is_restricted,
            "is_ultra_restricted": False,
            "is_bot": u.is_bot,
            "is_app_user": False,
            "updated": u.updated,
        }

    def channel_json(self, c: Channel) -> dict[str, Any]:
        return {
            "id": c.id,
            "name": c.name,
            "is_channel": not c.is_private,
            "is_group": c.is_private,
            "is_im": False,
            "is_mpim": False,
            "is_private": c.is_private,
            "created": c.created,
            "is_archived": c.is_archived,
            "is_general": c.is_general,
            "unlinked": 0,
            "name_normalized": c.name,
            "is_shared": False,
            "is_org_shared": False,
            "is_pending_ext_shared": False,
            "pending_shared": [],
            "parent_conversation": None,
            "creator": c.creator,
            "is_ext_shared": False,
            "shared_team_ids": [self.team_id],
            "pending_connected_team_ids": [],
            "is_member": c.is_member,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": c.purpose, "creator": c.creator, "last_set": c.created},
            "previous_names": [],
            "num_members": c.members,
        }

    def team_json(self) -> dict[str, Any]:
        icon = "https://a.slack-edge.com/80588/img/avatars-teams/ava_0001"
        return {
            "id": self.team_id,
            "name": TEAM_NAME,
            "domain": TEAM_DOMAIN,
            "email_domain": EMAIL_DOMAIN,
            "icon": {
                **{f"image_{s}": f"{icon}-{s}.png" for s in (34, 44, 68, 88, 102, 132, 230)},
                "image_default": True,
            },
        }

    def counts(self) -> dict[str, int]:
        top = sum(len(c.messages) for c in self.channels)
        every = sum(len(c.by_ts) for c in self.channels)
        return {
            "slack.users": len(self.users),
            "slack.channels": len(self.channels),
            "slack.messages": every,
            "slack.top_level_messages": top,
            "slack.replies": every - top,
            "slack.threads": sum(1 for c in self.channels for m in c.messages if m.replies),
        }


def free_ts(channel: Channel, at: int) -> int:
    """Slack's ts identifies a message within its channel: never reuse one."""
    while at in channel.by_ts:
        at += 1
    return at
