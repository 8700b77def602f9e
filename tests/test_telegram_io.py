"""How the bot talks to Telegram: which updates it confirms (only handled ones, each handled once),
and a reply that Telegram keeps refusing."""

import asyncio

import pytest
from telegram import Update
from telegram.error import NetworkError

from bot.telegram_io import Confirmations, RetryingRateLimiter


def updates(*ids: int) -> list[Update]:
    return [Update(update_id) for update_id in ids]


def test_polling_confirms_only_past_the_oldest_update_still_in_hand_and_skips_those_handled():
    confirmations = Confirmations()
    assert [u.update_id for u in confirmations.take(updates(10, 11, 12))] == [10, 11, 12]
    confirmations.handled(11)
    confirmations.handled(12)
    assert confirmations.offset(13) == 10  # 10 is still being answered: Telegram keeps it
    # Telegram sends 10-12 again, with a new one: only the new one is handled.
    assert [u.update_id for u in confirmations.take(updates(10, 11, 12, 13))] == [13]
    confirmations.handled(10)
    assert confirmations.offset(14) == 13
    confirmations.handled(13)
    assert confirmations.offset(14) == 14 and not confirmations.handling


async def test_a_webhook_post_is_answered_once_its_update_is_handled_and_a_resend_is_not_handled_twice():
    confirmations = Confirmations()
    assert confirmations.arrived(7)
    answer = asyncio.create_task(confirmations.handled_within(7, 60))
    await asyncio.sleep(0.05)
    assert not answer.done()  # still being handled: the POST waits
    assert not confirmations.arrived(7)  # Telegram sent it again meanwhile: not queued twice
    confirmations.handled(7)
    await asyncio.wait_for(answer, 1)


async def test_a_reply_telegram_keeps_refusing_fails_with_telegrams_own_error_once_retries_run_out():
    limiter = RetryingRateLimiter(retry_for=0.6)
    await limiter.initialize()
    calls = []

    async def send(*args, **kwargs):
        calls.append(1)
        raise NetworkError("Bad Gateway")

    with pytest.raises(NetworkError, match="Bad Gateway"):
        await limiter.process_request(send, (), {}, "sendMessage", {"chat_id": 1}, None)
    assert len(calls) >= 2  # retried first


def test_an_update_handled_while_a_poll_for_it_is_on_its_way_is_not_handled_again():
    """A slow reply (a send held by a timeout, then retried) ends while the next getUpdates, asked
    from that update's offset, is still on its way: the update it brings back again is not new.
    It was, and the user got the same answer twice."""
    confirmations = Confirmations()
    assert [u.update_id for u in confirmations.take(updates(20))] == [20]
    assert confirmations.offset(21) == 20       # a poll goes out while 20 is still being answered
    confirmations.handled(20)                   # the answer is sent before that poll comes back
    assert confirmations.take(updates(20)) == ()  # which brings 20 again
    assert confirmations.offset(21) == 21
    assert [u.update_id for u in confirmations.take(updates(21))] == [21]
    confirmations.handled(21)
    assert confirmations.offset(22) == 22 and not confirmations.handling
