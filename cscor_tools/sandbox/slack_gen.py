"""Generates the Slack workspace: staff and a couple of customer guests, channels, a history
of messages (people talking about customers, bots posting payment alerts), threads and edits."""

from __future__ import annotations

import random

from cscor_tools.sandbox.clock import US
from cscor_tools.sandbox.config import Volumes
from cscor_tools.sandbox.ids import stream
from cscor_tools.sandbox.people import PeoplePool, Person, slug
from cscor_tools.sandbox.slack_data import (
    BOT_NAME,
    DAY_US,
    Channel,
    Message,
    SlackData,
    SlackUser,
    free_ts,
)

_CHANNELS: tuple[tuple[str, str, bool], ...] = (
    # (name, purpose, the bot is a member)
    # the first three make the smallest workspace: a channel the bot is not in, and one
    # where it posts alerts
    ("general", "Company-wide announcements and work-based matters", True),
    ("random", "Non-work banter and water cooler conversation", False),
    ("billing-alerts", "Payments, invoices and failed charges", True),
    ("sales", "Deals, leads and who is talking to whom", True),
    ("support", "Customer questions and how we answered them", True),
    ("ops", "Deploys, incidents and on-call", True),
    ("customer-success", "Renewals, onboarding and account health", True),
    ("archive-2025-offsite", "Planning the 2025 offsite", True),
)
#: private channels (the bot is a member: others it cannot even see)
_PRIVATE = frozenset({"customer-success"})
_TZS = (
    ("America/New_York", "Eastern Standard Time", -18000),
    ("Europe/London", "Greenwich Mean Time", 0),
    ("Europe/Berlin", "Central European Time", 3600),
    ("America/Los_Angeles", "Pacific Standard Time", -28800),
    ("Asia/Tokyo", "Japan Standard Time", 32400),
)



def chat_text(rng: random.Random, author: str, mention: SlackUser, customer: Person) -> str:
    email = customer.email
    lines = (
        f"Heads up: {customer.name} asked for a copy of their last invoice, can someone send it "
        f"to <mailto:{email}|{email}>?",
        f"<@{mention.id}> {customer.name} called about the {rng.randint(20, 900)}.00 charge, "
        "I said we'd get back to them today",
        f"Closed the renewal with {customer.company} :tada:",
        f"{customer.first_name} from {customer.company} wants to move their billing date, "
        f"any objections <@{mention.id}>?",
        "Who's on support this week?",
        "Deploy went out, no errors so far :crossed_fingers:",
        f"New address for {customer.name}: {customer.address.line1}, {customer.address.city}",
        "Reminder: month-end close on Friday, please get your expenses in",
    )
    return lines[rng.randrange(len(lines))]


def alert_text(rng: random.Random, customer: Person) -> str:
    amount = f"{rng.randint(20, 4000)}.{rng.randrange(100):02d} {customer.locale.currency.upper()}"
    options = (
        f"Payment of {amount} from {customer.name} succeeded",
        f"Invoice for {customer.name} is past due ({amount})",
        f"Card declined for {customer.name} <{customer.email}>: insufficient funds",
    )
    return options[rng.randrange(len(options))]


def generate_slack(data: SlackData, people: PeoplePool, volumes: Volumes, seed: int) -> None:
    rng = stream(seed, "slack")
    now = data.clock.now_us
    start = now - volumes.history_days * DAY_US
    # staff are people the other providers never see (contacts who are not customers take
    # the indices just after the customers); a couple of guests are customers
    staff_base = volumes.customers + volumes.contacts
    humans: list[SlackUser] = []
    for i in range(volumes.users):
        person = people.get(staff_base + i)
        handle = person.handle.split(".")[0] + (person.handle.split(".")[-1][:1] or "")
        humans.append(
            SlackUser(
                id=data.ids.slack("U", "user"),
                person=person,
                name=handle,
                real_name=person.name,
                title=("Founder" if i == 0 else
                       ("Account Executive", "Support Lead", "Engineer", "Finance Manager",
                        "Customer Success Manager")[rng.randrange(5)]),
                tz=_TZS[rng.randrange(len(_TZS))],
                updated=(start + rng.randrange(max(1, now - start))) // US,
                is_admin=i < 2,
                is_owner=i == 0,
                deleted=i > 2 and rng.random() < 0.06,
            )
        )
    guests = [people.get(i) for i in range(min(2, volumes.customers))]
    for person in guests:
        humans.append(
            SlackUser(
                id=data.ids.slack("U", "user"), person=person, name=person.handle.split(".")[0],
                real_name=person.name, title="Guest", tz=_TZS[0],
                updated=(now - 30 * DAY_US) // US, is_restricted=True,
            )
        )
    bot = SlackUser(
        id=data.ids.slack("U", "user"), person=None, name=BOT_NAME, real_name="Cscor Bot",
        title="", tz=("America/Los_Angeles", "Pacific Standard Time", -28800),
        updated=start // US, is_bot=True, bot_id=data.bot_id, app_id=data.app_id,
    )
    slackbot = SlackUser(id="USLACKBOT", person=None, name="slackbot", real_name="Slackbot",
                         title="", tz=("America/Los_Angeles", "Pacific Standard Time", -28800),
                         updated=0)
    data.bot_user = bot
    data.users = [slackbot, *humans, bot]

    active = [u for u in humans if not u.deleted and not u.is_restricted]
    customers = [people.get(i) for i in range(max(1, min(volumes.customers, 400)))]
    specs = list(_CHANNELS)
    while len(specs) < volumes.channels:
        specs.append((f"project-{slug(customers[len(specs) % len(customers)].company)[:20]}",
                      "A customer project", True))
    for i, (name, purpose, member) in enumerate(specs[: volumes.channels]):
        created = start + i * DAY_US
        channel = Channel(
            id=data.ids.slack("C", "channel"),
            name=name,
            created=created // US,
            creator=humans[0].id,
            purpose=purpose,
            is_member=member,
            is_archived=name.startswith("archive-"),
            is_general=name == "general",
            is_private=name in _PRIVATE,
            members=len(active) + (len(guests) if name == "customer-success" else 0),
        )
        data.channels.append(channel)

    # top-level messages over the history, denser recently; some start threads
    times = sorted(now - int((now - start) * rng.random() ** 1.5) for _ in range(volumes.messages))
    for at in times:
        channel = data.channels[rng.randrange(len(data.channels))]
        at = free_ts(channel, max(at, channel.created * US + US))
        customer = customers[rng.randrange(len(customers))]
        if channel.name == "billing-alerts":
            message = Message(at, alert_text(rng, customer), subtype="bot_message",
                              bot_id=data.bot_id, username="Stripe Alerts")
        else:
            author = active[rng.randrange(len(active))]
            mention = active[rng.randrange(len(active))]
            message = Message(at, chat_text(rng, author.id, mention, customer), user=author.id)
            if rng.random() < 0.05:
                message.edited = (author.id, min(now, at + rng.randint(60, 3600) * US))
        channel.add(message)
        if message.user and rng.random() < volumes.thread_share:
            for _ in range(rng.randint(1, 6)):
                reply_at = free_ts(channel, min(now, at + rng.randint(30, 2 * 86_400) * US))
                who = active[rng.randrange(len(active))]
                channel.add(Message(reply_at, chat_text(rng, who.id, author, customer), user=who.id,
                                    thread_ts=at, parent_user=message.user))
