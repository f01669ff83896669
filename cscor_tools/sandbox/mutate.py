"""Time moves: create, update and delete objects across the providers, and say exactly what
changed, so a test of an incremental sync can assert on it.

A mutation advances the sandbox clock and spreads its operations over the interval, each at its
own moment. Stripe changes go through the same operations as the generated history (so they
emit ``customer.updated`` with ``previous_attributes``, ``customer.deleted``, ``invoice.paid``…);
Resend emails move on to a new ``last_event``; Slack messages are posted, edited and deleted.
Each mutation draws from its own random stream, so the n-th mutation of a seed is always the
same.
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any, TypeVar

from cscor_tools.sandbox.clock import US, from_us, slack_ts
from cscor_tools.sandbox.ids import stream
from cscor_tools.sandbox.resend_data import NEXT_EVENT
from cscor_tools.sandbox.slack_data import Channel, Message, SlackUser, free_ts
from cscor_tools.sandbox.slack_gen import alert_text, chat_text
from cscor_tools.sandbox.stripe_records import Invoice
from cscor_tools.sandbox.world import World, no_collector

T = TypeVar("T")

#: what ``mutate`` can change, and how
KINDS: Mapping[str, tuple[str, ...]] = {
    "stripe.customers": ("create", "update", "delete"),
    "stripe.invoices": ("create", "update", "delete"),  # delete: drafts only, as at Stripe
    "stripe.payments": ("create",),
    "resend.contacts": ("create", "update", "delete"),
    "resend.emails": ("create", "update"),  # update: the next last_event
    "slack.messages": ("create", "update", "delete"),
}


@dataclass
class MutationSummary:
    """Exactly what one mutation changed. Ids are per object kind, e.g. ``stripe.customer``;
    Slack messages are named ``<channel>/<ts>``."""

    started: datetime
    finished: datetime
    created: dict[str, list[str]] = field(default_factory=dict)
    updated: dict[str, list[str]] = field(default_factory=dict)
    deleted: dict[str, list[str]] = field(default_factory=dict)
    #: Stripe events emitted, oldest first: {"id", "type", "object"}
    events: list[dict[str, str]] = field(default_factory=list)
    #: Resend email id → [previous last_event, new last_event]
    last_events: dict[str, list[str]] = field(default_factory=dict)

    def note(self, action: str, kind: str, obj_id: str) -> None:
        bucket: dict[str, list[str]] = getattr(self, action)
        bucket.setdefault(kind, []).append(obj_id)

    def count(self, action: str, kind: str) -> int:
        bucket: dict[str, list[str]] = getattr(self, action)
        return len(bucket.get(kind, []))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["started"] = self.started.isoformat()
        data["finished"] = self.finished.isoformat()
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MutationSummary:
        return cls(
            started=datetime.fromisoformat(data["started"]),
            finished=datetime.fromisoformat(data["finished"]),
            created=dict(data["created"]),
            updated=dict(data["updated"]),
            deleted=dict(data["deleted"]),
            events=list(data["events"]),
            last_events=dict(data["last_events"]),
        )


def plan_counts(world: World, create: float, update: float, delete: float,
                counts: Mapping[str, Mapping[str, int]] | None) -> dict[str, dict[str, int]]:
    """How many of each operation: fractions of each kind's live count (at least one when the
    fraction is above zero), unless ``counts`` names the number."""
    live = world.counts()
    sizes = {
        "stripe.customers": live["stripe.customers"],
        "stripe.invoices": live["stripe.invoices"],
        "stripe.payments": live["stripe.payment_intents"],
        "resend.contacts": live["resend.contacts"],
        "resend.emails": live["resend.emails"],
        "slack.messages": live["slack.messages"],
    }
    unknown = set(counts or {}) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown kind(s) {sorted(unknown)}; known: {sorted(KINDS)}")
    plan: dict[str, dict[str, int]] = {}
    fractions = {"create": create, "update": update, "delete": delete}
    for kind, actions in KINDS.items():
        given = dict((counts or {}).get(kind, {}))
        bad = set(given) - set(actions)
        if bad:
            raise ValueError(f"{kind} cannot {sorted(bad)}")
        plan[kind] = {}
        for action in actions:
            if counts is not None:  # named numbers only; every other kind stays as it is
                plan[kind][action] = int(given.get(action, 0))
            else:
                share = fractions[action]
                plan[kind][action] = math.ceil(sizes[kind] * share) if share > 0 else 0
    return plan


def mutate(world: World, *, create: float = 0.02, update: float = 0.05, delete: float = 0.01,
           counts: Mapping[str, Mapping[str, int]] | None = None,
           days: float = 1.0) -> MutationSummary:
    """Advance the clock by ``days`` and apply the planned changes within that interval.

    With ``counts`` (e.g. ``{"stripe.customers": {"delete": 2}}``) only the kinds it names
    change; otherwise every kind changes by the given fractions.
    """
    with world.lock:
        plan = plan_counts(world, create, update, delete, counts)
        rng = stream(world.config.seed, f"mutation:{world.mutations}")
        world.mutations += 1
        before, after = world.clock.advance(timedelta(days=days))
        summary = MutationSummary(started=from_us(before), finished=from_us(after))
        ops: list[tuple[str, str]] = [
            (kind, action) for kind, actions in plan.items()
            for action, n in actions.items() for _ in range(n)
        ]
        rng.shuffle(ops)
        events_before = len(world.stripe.events.all_records())
        # each operation gets its own moment; Stripe's need a few seconds apart for the
        # create → finalize → pay steps of one invoice
        step = (after - before) // (len(ops) + 1) if ops else 0
        ctx = _Context(world, rng, summary)
        with no_collector():
            for i, (kind, action) in enumerate(ops):
                _APPLY[kind](ctx, action, before + step * (i + 1))
        for event in world.stripe.events.all_records()[events_before:]:
            summary.events.append({"id": event.id, "type": event.type,
                                   "object": event.object_id})
        return summary


class _Context:
    """One mutation's random stream and summary, and its pools of candidates, each built once
    (a scan of 60,000 invoices per operation would make a large mutation take minutes)."""

    def __init__(self, world: World, rng: random.Random, summary: MutationSummary) -> None:
        self.world = world
        self.rng = rng
        self.summary = summary

    def pick(self, pool: list[T], remove: bool = False) -> T | None:
        if not pool:
            return None
        i = self.rng.randrange(len(pool))
        item = pool[i]
        if remove:  # swap with the last and pop: O(1)
            pool[i] = pool[-1]
            pool.pop()
        return item

    def person(self) -> Any:
        world = self.world
        person = world.people.get(world.next_person)
        world.next_person += 1
        return person

    @cached_property
    def customers(self) -> list[Any]:
        return list(self.world.stripe.customers)

    @cached_property
    def drafts(self) -> list[Invoice]:
        return [i for i in self.world.stripe.invoices if i.status_at() == "draft"]

    @cached_property
    def open_invoices(self) -> list[Invoice]:
        return [i for i in self.world.stripe.invoices if i.status_at() == "open"]

    @cached_property
    def contacts(self) -> list[Any]:
        return list(self.world.resend.contacts)

    @cached_property
    def movable_emails(self) -> list[Any]:
        return [e for e in self.world.resend.emails if e.last_event in NEXT_EVENT]

    @cached_property
    def channels(self) -> list[Channel]:
        return [c for c in self.world.slack.channels if c.is_member and not c.is_archived]

    @cached_property
    def staff(self) -> list[SlackUser]:
        users = self.world.slack.users
        return [u for u in users if u.person and not u.deleted and not u.is_restricted]

    @cached_property
    def messages(self) -> list[tuple[Channel, Message]]:
        """Every live message of the channels the bot is in (deleted ones are skipped when
        drawn, so the list never needs rebuilding)."""
        return [(c, m) for c in self.channels for m in c.by_ts.values()]


def _stripe_customers(ctx: _Context, action: str, at_us: int) -> None:
    data, at, summary = ctx.world.stripe, at_us // US, ctx.summary
    if action == "create":
        made = data.add_customer(ctx.person(), at, ctx.rng)
        ctx.customers.append(made)
        summary.note("created", "stripe.customer", made.id)
        return
    customer = ctx.pick(ctx.customers, remove=action == "delete")
    if customer is None:
        return
    if action == "delete":
        data.delete_customer(customer, at)
        summary.note("deleted", "stripe.customer", customer.id)
        return
    person = ctx.person()
    change = ctx.rng.randrange(4)
    if change == 0:
        changes: dict[str, Any] = {"email": person.email}
    elif change == 1:
        changes = {"phone": person.phone}
    elif change == 2:
        changes = {"address": person.address.as_stripe()}
    else:
        changes = {"metadata": {**customer.metadata, "segment": ctx.rng.choice(("smb", "mid"))}}
    data.update_customer(customer, at, **changes)
    summary.note("updated", "stripe.customer", customer.id)


def _stripe_invoices(ctx: _Context, action: str, at_us: int) -> None:
    data, at, summary, rng = ctx.world.stripe, at_us // US, ctx.summary, ctx.rng
    if action == "create":
        customer = ctx.pick(ctx.customers)
        if customer is None:
            return
        invoice = data.add_invoice(customer, at, rng)
        summary.note("created", "stripe.invoice", invoice.id)
        if rng.random() < 0.2:
            ctx.drafts.append(invoice)
            return
        data.finalize(invoice, at + 1)
        if invoice.collection_method == "charge_automatically":
            _pay(ctx, invoice, at + 2)
        else:
            ctx.open_invoices.append(invoice)
        return
    if action == "delete":
        draft = ctx.pick(ctx.drafts, remove=True)
        if draft is not None:
            data.delete_draft(draft, at)
            summary.note("deleted", "stripe.invoice", draft.id)
        return
    # update: finalize a draft, or settle an open invoice (mostly paid, sometimes voided)
    finalizing = bool(ctx.drafts) and (not ctx.open_invoices or rng.random() < 0.2)
    chosen = ctx.pick(ctx.drafts if finalizing else ctx.open_invoices, remove=True)
    if chosen is None:
        return
    if finalizing:
        data.finalize(chosen, at)
        ctx.open_invoices.append(chosen)
    elif rng.random() < 0.85:
        _pay(ctx, chosen, at)
    else:
        data.void(chosen, at)
    summary.note("updated", "stripe.invoice", chosen.id)


def _pay(ctx: _Context, invoice: Invoice, at: int) -> None:
    had_intent = invoice.payment_intent is not None
    charge = ctx.world.stripe.attempt(invoice, at, ctx.rng, succeed=True)
    summary = ctx.summary
    summary.note("updated" if had_intent else "created", "stripe.payment_intent",
                 charge.payment_intent.id)
    summary.note("created", "stripe.charge", charge.id)
    summary.note("created", "stripe.invoice_payment", invoice.payments[-1])


def _stripe_payments(ctx: _Context, action: str, at_us: int) -> None:
    customer = ctx.pick(ctx.customers)
    if customer is None:
        return
    # the payment intent comes a minute before its charge would be cancelled or made
    pi = ctx.world.stripe.one_off_payment(customer, at_us // US - 60, ctx.rng,
                                          succeed=ctx.rng.random() < 0.9)
    ctx.summary.note("created", "stripe.payment_intent", pi.id)
    if pi.latest_charge:
        ctx.summary.note("created", "stripe.charge", pi.latest_charge)


def _resend_contacts(ctx: _Context, action: str, at_us: int) -> None:
    data, summary = ctx.world.resend, ctx.summary
    if action == "create":
        newsletter = {s.id for s in data.segments if s.name == "Newsletter"}
        made = data.add_contact(ctx.person(), at_us, ctx.rng, newsletter)
        ctx.contacts.append(made)
        summary.note("created", "resend.contact", made.id)
        return
    contact = ctx.pick(ctx.contacts, remove=action == "delete")
    if contact is None:
        return
    if action == "delete":
        data.delete_contact(contact)
        summary.note("deleted", "resend.contact", contact.id)
        return
    contact.unsubscribed = not contact.unsubscribed
    contact.cache = None
    summary.note("updated", "resend.contact", contact.id)


def _resend_emails(ctx: _Context, action: str, at_us: int) -> None:
    data, summary = ctx.world.resend, ctx.summary
    if action == "create":
        person = ctx.person()
        known = ctx.pick(ctx.contacts)
        if known is not None:  # mostly mail to known contacts
            person = dataclasses.replace(person, email=known.email, first_name=known.first_name)
        sent = data.send_email(person, at_us, ctx.rng, "sent")
        ctx.movable_emails.append(sent)
        summary.note("created", "resend.email", sent.id)
        return
    email = ctx.pick(ctx.movable_emails, remove=True)
    if email is None:
        return
    options = NEXT_EVENT[email.last_event]
    old = data.set_last_event(email, options[ctx.rng.randrange(len(options))])
    if email.last_event in NEXT_EVENT:
        ctx.movable_emails.append(email)
    summary.last_events[email.id] = [old, email.last_event]
    summary.note("updated", "resend.email", email.id)


def _slack_messages(ctx: _Context, action: str, at_us: int) -> None:
    data, rng, summary = ctx.world.slack, ctx.rng, ctx.summary
    author = ctx.pick(ctx.staff)
    if author is None:
        return
    customer = ctx.world.people.get(rng.randrange(max(1, ctx.world.config.volumes.customers)))
    if action == "create":
        channel = ctx.pick(ctx.channels)
        if channel is None:
            return
        ts = free_ts(channel, at_us)
        parents = [m for m in channel.messages[-50:] if m.user and not m.subtype]
        if parents and rng.random() < 0.3:
            parent = parents[rng.randrange(len(parents))]
            message = Message(ts, chat_text(rng, author.id, author, customer), user=author.id,
                              thread_ts=parent.ts, parent_user=parent.user)
        elif channel.name == "billing-alerts":
            message = Message(ts, alert_text(rng, customer), subtype="bot_message",
                              bot_id=data.bot_id, username="Stripe Alerts")
        else:
            message = Message(ts, chat_text(rng, author.id, author, customer), user=author.id)
        channel.add(message)
        ctx.messages.append((channel, message))
        summary.note("created", "slack.message", f"{channel.id}/{slack_ts(ts)}")
        return
    if action == "update":
        for _ in range(20):  # bot alerts and channel joins are not edited: draw again
            picked = ctx.pick(ctx.messages)
            if picked is None:
                return
            channel, edited = picked
            if edited.live and edited.user and not edited.subtype:
                edited.text = f"{edited.text} (edit: {chat_text(rng, author.id, author, customer)})"
                edited.edited = (edited.user, at_us)
                summary.note("updated", "slack.message", f"{channel.id}/{slack_ts(edited.ts)}")
                return
        return
    for _ in range(20):
        picked = ctx.pick(ctx.messages)
        if picked is None:
            return
        channel, gone = picked
        # a thread's parent stays while it has replies (Slack would leave a tombstone)
        if gone.live and not gone.replies:
            channel.remove(gone)
            summary.note("deleted", "slack.message", f"{channel.id}/{slack_ts(gone.ts)}")
            return


_APPLY: dict[str, Callable[[_Context, str, int], None]] = {
    "stripe.customers": _stripe_customers,
    "stripe.invoices": _stripe_invoices,
    "stripe.payments": _stripe_payments,
    "resend.contacts": _resend_contacts,
    "resend.emails": _resend_emails,
    "slack.messages": _slack_messages,
}
