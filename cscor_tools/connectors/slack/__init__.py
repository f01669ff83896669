"""Slack: a workspace's members, channels, messages and threads, on the connector kit.

=====================  ======================================================================
stream                 reads → writes
=====================  ======================================================================
``workspace``          ``auth.test``, ``team.info`` → integrations (kind slack_workspace)
``users``              ``users.list`` → contacts (email with ``users:read.email`` only; bots,
                       guests and deactivated members marked)
``channels``           ``conversations.list`` → channels (public and private; DMs if asked)
``messages``           ``conversations.history`` → notifications (channel slack), and
                       ``conversations.replies`` for the threads that changed
=====================  ======================================================================

See ``connector.py`` for the settings and the choice of httpx over ``slack_sdk``,
``history.py`` for incremental reads, tombstones and thread triage, ``pacing.py`` for the
per-method budgets and the ETA, ``client.py`` for ``ok: false``.
"""

from __future__ import annotations

from cscor_tools.connectors.slack.connector import SlackConnector

__all__ = ["SlackConnector"]
