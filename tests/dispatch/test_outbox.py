"""Customer messages leave through a real SMTP server; failures are retried, never sent twice."""

from __future__ import annotations

import datetime as dt
import socket
import uuid
from email import message_from_bytes
from email.policy import default

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from core.database import make_engine, make_sessionmaker
from dispatch.messaging.models import OutboxMessage, OutboxStatus
from dispatch.messaging.outbox import MAX_ATTEMPTS, DeliveryFailed, SmtpSender, deliver_due, enqueue

NOW = dt.datetime(2026, 3, 6, 8, 0, tzinfo=dt.UTC)


class Inbox:
    def __init__(self) -> None:
        self.messages: list[object] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append(message_from_bytes(envelope.content, policy=default))
        return "250 OK"


@pytest.fixture
def smtp():
    inbox = Inbox()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
async def sessions(empty_db):
    engine = make_engine(empty_db, pool_size=2)
    yield make_sessionmaker(engine)
    await engine.dispose()


async def _queue(sessions, key: str) -> None:
    async with sessions() as session, session.begin():
        await enqueue(
            session,
            NOW,
            channel="email",
            recipient="li.wei@example.com",
            subject="上门服务预约确认",
            body="李伟您好：工程师将于 2026-03-07 09:00 上门服务。",
            order_id=None,
            dedupe_key=key,
        )


async def test_delivered_once_through_smtp_with_chinese_text(smtp, sessions):
    inbox, port = smtp
    key = f"appointment:{uuid.uuid4()}"
    await _queue(sessions, key)
    await _queue(sessions, key)  # the same event again: still one message
    senders = {"email": SmtpSender("127.0.0.1", port, "service@example.com")}
    async with sessions() as session, session.begin():
        assert await deliver_due(session, NOW, senders) == 1
    async with sessions() as session, session.begin():
        assert await deliver_due(session, NOW + dt.timedelta(hours=1), senders) == 0
    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    assert message["Subject"] == "上门服务预约确认"
    assert "李伟您好" in message.get_content()


class Broken:
    async def send(self, recipient: str, subject: str, body: str) -> None:
        raise DeliveryFailed("gateway down")


async def test_failures_back_off_then_give_up(sessions):
    key = f"late:{uuid.uuid4()}"
    await _queue(sessions, key)
    now = NOW
    for attempt in range(1, MAX_ATTEMPTS + 1):
        async with sessions() as session, session.begin():
            await deliver_due(session, now, {"email": Broken()})
            message = (
                await session.execute(select(OutboxMessage).where(OutboxMessage.dedupe_key == key))
            ).scalar_one()
            assert message.attempts == attempt
            assert message.last_error == "gateway down"
        # not retried before its time
        async with sessions() as session, session.begin():
            await deliver_due(session, now, {"email": Broken()})
            again = (
                await session.execute(select(OutboxMessage).where(OutboxMessage.dedupe_key == key))
            ).scalar_one()
            assert again.attempts == attempt
        now = message.next_attempt_at
    assert message.status is OutboxStatus.FAILED
