"""The workspace, its members and its conversations: listings read whole each run."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from cscor_tools.connectors.base import Page, Slice, Stream
from cscor_tools.connectors.pagination import NextCursorPaginator, Params
from cscor_tools.connectors.rest import RestStream
from cscor_tools.connectors.slack.normalize import channel_row, contact_row, workspace_row
from cscor_tools.connectors.slack.pacing import PAGE
from cscor_tools.errors import PermissionDeniedError
from cscor_tools.records import Cursor, Output
from cscor_tools.schema import utc_now

if TYPE_CHECKING:
    from cscor_tools.connectors.http import JsonResponse
    from cscor_tools.connectors.slack.connector import SlackConnector


class WorkspaceStream(Stream):
    """``auth.test`` and ``team.info`` → the Slack workspace as an integration."""

    name = "workspace"
    entities = ("integrations",)
    primary_key = "team_id"
    connector: SlackConnector

    def read(self, slice: Slice, cursor: Cursor | None) -> Iterator[Page]:
        auth = self.http.get("auth.test").data
        team: dict[str, Any] | None = None
        warnings: tuple[str, ...] = ()
        try:
            team = self.http.get("team.info").data.get("team")
        except PermissionDeniedError as exc:  # team:read is optional: auth.test names it
            warnings = (f"{exc}; the workspace's name and domain came from auth.test",)
        yield Page([{"team_id": auth.get("team_id"), "auth": auth, "team": team}], None,
                   last=True, warnings=warnings)

    def normalize(self, raw: dict[str, Any]) -> Iterable[Output]:
        yield "integrations", workspace_row(raw["auth"], raw["team"], synced_at=utc_now())


class UsersStream(RestStream):
    """``users.list`` → contacts: people, guests, bots; deactivated members marked."""

    name = "users"
    entities = ("contacts",)
    path = "users.list"
    records_key = "members"
    paginator = NextCursorPaginator(limit=PAGE)
    sweeps = ("contacts",)
    connector: SlackConnector

    def normalize(self, raw: dict[str, Any]) -> Iterable[Output]:
        yield "contacts", contact_row(raw, self.connector.links, synced_at=utc_now())

    def warnings_of(self, response: JsonResponse, *, path: str) -> tuple[str, ...]:
        members = (response.data or {}).get("members") or []
        people = [m for m in members if not m.get("is_bot") and m.get("id") != "USLACKBOT"]
        if people and not any((m.get("profile") or {}).get("email") for m in people):
            return ("users.list gave no email addresses: the token lacks the scope "
                    "users:read.email (add it to read members' emails)",)
        return ()


class ChannelsStream(RestStream):
    """``conversations.list`` → channels: public and private (DMs where configured)."""

    name = "channels"
    entities = ("channels",)
    path = "conversations.list"
    records_key = "channels"
    paginator = NextCursorPaginator(limit=PAGE)
    sweeps = ("channels",)
    connector: SlackConnector

    def slice_params(self, slice: Slice) -> Params:
        return [("types", self.connector.conversation_types()),
                ("exclude_archived", "false"), *super().slice_params(slice)]

    def normalize(self, raw: dict[str, Any]) -> Iterable[Output]:
        yield "channels", channel_row(raw, self.connector.links, synced_at=utc_now())
