"""Messages to customers, delivered by the worker with retries through pluggable senders.

The contracts ask for an appointment confirmation and, when an engineer will be
late, a notice with an apology. A message is written in the same transaction as
the change that caused it (so it is sent if and only if that change is stored),
then delivered by the worker: each due message is locked with SKIP LOCKED, so
several workers never send one twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import smtplib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from dispatch.messaging.models import OutboxMessage, OutboxStatus

log = logging.getLogger("fieldservice.outbox")

MAX_ATTEMPTS = 8
BATCH = 50


class DeliveryFailed(Exception):
    """The sender could not hand the message over; the worker tries again later."""


class Sender(Protocol):
    async def send(self, recipient: str, subject: str, body: str) -> None: ...


@dataclass(frozen=True)
class SmtpSender:
    host: str
    port: int
    sender: str
    timeout: float = 10.0

    def _send(self, recipient: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, recipient, subject
        message.set_content(body)  # UTF-8: Chinese text goes out as it is
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            smtp.send_message(message)

    async def send(self, recipient: str, subject: str, body: str) -> None:
        try:
            await asyncio.to_thread(self._send, recipient, subject, body)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryFailed(str(exc)) from exc


class LogSender:
    """Where no gateway is configured (development): the message goes to the log."""

    def __init__(self, channel: str) -> None:
        self.channel = channel

    async def send(self, recipient: str, subject: str, body: str) -> None:
        log.info("%s to %s: %s — %s", self.channel, recipient, subject, body)


def backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(minutes=min(2**attempts, 240))


@dataclass(frozen=True)
class Outgoing:
    """A message to queue; sent once per `dedupe_key`."""

    channel: str
    recipient: str
    subject: str
    body: str
    order_id: uuid.UUID | None
    dedupe_key: str


async def enqueue(
    session: AsyncSession,
    now: dt.datetime,
    *,
    channel: str,
    recipient: str,
    subject: str,
    body: str,
    order_id: uuid.UUID | None,
    dedupe_key: str,
) -> None:
    """Queue a message once per dedupe key (a re-evaluation never sends it twice)."""
    await enqueue_all(session, now, [Outgoing(channel, recipient, subject, body, order_id, dedupe_key)])


async def enqueue_all(session: AsyncSession, now: dt.datetime, messages: Sequence[Outgoing]) -> None:
    """`enqueue` for several messages, in one statement."""
    if not messages:
        return
    await session.execute(
        insert(OutboxMessage)
        .values(
            [
                {
                    "id": uuid.uuid4(),
                    "created_at": now,
                    "channel": m.channel,
                    "recipient": m.recipient,
                    "subject": m.subject,
                    "body": m.body,
                    "work_order_id": m.order_id,
                    "status": OutboxStatus.PENDING,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "dedupe_key": m.dedupe_key,
                }
                for m in messages
            ]
        )
        .on_conflict_do_nothing(index_elements=[OutboxMessage.dedupe_key])
    )


async def deliver_due(session: AsyncSession, now: dt.datetime, senders: Mapping[str, Sender]) -> int:
    """Send what is due; failures are retried with growing delays, then marked failed."""
    rows = await session.execute(
        select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    )
    sent = 0
    for message in rows.scalars():
        sender = senders.get(message.channel)
        message.attempts += 1
        try:
            if sender is None:
                raise DeliveryFailed(f"no sender for channel {message.channel}")
            await sender.send(message.recipient, message.subject, message.body)
        except DeliveryFailed as exc:
            message.last_error = str(exc)[:2000]
            if message.attempts >= MAX_ATTEMPTS:
                message.status = OutboxStatus.FAILED
            else:
                message.next_attempt_at = now + backoff(message.attempts)
            continue
        message.status, message.sent_at = OutboxStatus.SENT, now
        sent += 1
    await session.flush()
    return sent
