"""Resend: sent and received emails, contacts, broadcasts and domains, on the connector kit.

Why httpx through the kit and not the official ``resend`` SDK: the SDK configures itself
through module globals (``resend.api_key``, ``resend.default_http_client``), so two
connector instances in one process (two teams, or a test beside a sync) would share one key
and one client; it paginates nothing (each ``list`` call is one page, the caller loops); and
it would bypass the kit's one HTTP discipline — the shared adaptive rate limiter, retries
that honour ``retry-after``, the error mapping, the injectable transport the contract suite
and the sandbox stand on. Resend's read API is a handful of plain JSON lists: the kit reads
them in a few declarations (``streams.py``) with nothing left for an SDK to earn.

What each stream writes:

========================  ====================================================================
``emails``                ``GET /emails`` → notifications (email, outbound): to, cc, bcc,
                          from, subject, ``last_event`` as status, created and scheduled times
``received_emails``       ``GET /emails/receiving`` → notifications (email, inbound)
``contacts``              ``GET /contacts`` (+ each segment's member listing) → contacts with
                          unsubscribed and segments; deleted contacts become tombstones
``contact_topics``        ``GET /contacts/{id}/topics`` → the topics a contact opted into
``broadcasts``            ``GET /broadcasts`` → campaigns with their status
``broadcast_recipients``  ``GET /broadcasts/{id}/recipients`` → campaign recipients
``domains``               ``GET /domains`` → integrations (kind email_domain): name, region,
                          status; never DNS records or keys
========================  ====================================================================

**Linking an email to a client or contact.** A connector never sees the workspace, so it
cannot know whether the address an email went to belongs to a Stripe customer, an imported
client or a Resend contact, nor that client's id: ids derive from each row's own source and
source id (``schema.make_id``), not from an address. Deriving ``client_id`` from the address
would name rows that may not exist (a dangling key every export would have to explain).
So a notification carries the addresses as Resend gives them (``recipient``, ``cc``,
``bcc``, ``sender``) — a reference the workspace resolves by address, as the privacy
requests already do — and ``client_id``/``contact_id`` stay empty. Where Resend itself names
the contact (a broadcast recipient's ``contact_id``), the connector links it.

Options (``[connectors.resend.options]`` in cscor.toml): ``status_window_days`` (7: how far
back sent emails are re-read for their ``last_event``), ``recipient_window_days`` (7),
``recipient_outcomes`` (which recipient listings decide a recipient's status),
``team_share`` (0.5: the part of the team's rate limit a sync may use).
"""

from __future__ import annotations

from cscor_tools.connectors.resend.connector import ResendConnector

__all__ = ["ResendConnector"]
