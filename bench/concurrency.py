"""Does one user's slow update make another wait? /help answered during another user's /reload.

    .venv/bin/python bench/concurrency.py [--entries 10000] [--rounds 3]

A knowledge base of N entries (generated as in bench/kb.py) is loaded by the real bot, built by
`bot.app.build_application`, polling a local sandbox in this process. The files are touched (so
the reload is a full one, not from the compiled cache) and a supervisor sends /reload;
50 ms later a cadre sends /help. Reported: how long the cadre waited for the answer to /help, and
how long the reload took, for each way of processing updates:

- baseline "sequential": PTB's `concurrent_updates(False)`, what the bot did before: one update
  at a time for all users;
- "per-chat": `bot.telegram_io.PerChatUpdates`, what the bot does now: concurrent across chats,
  in order within a chat, the reload off the event loop.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from kb import generate  # noqa: E402

from bot.knowledge.cache import load_engine  # noqa: E402

from bot.app import build_application  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.crypto import generate_key  # noqa: E402
from bot.sandbox.client import SandboxClient  # noqa: E402
from bot.sandbox.app import DEFAULT_TOKEN, start_sandbox  # noqa: E402
from bot.services import Services  # noqa: E402
from bot.telegram_io import PerChatUpdates  # noqa: E402

SUPERVISOR, CADRE = 900000001, 200000001


async def answered(client: SandboxClient, chat_id: int, after: int, timeout: float = 600) -> float:
    """Seconds until the bot's first message in `chat_id` after event `after`."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        batch = await client.events(chat_id=chat_id, after=after, timeout=1.0)
        if any(e["type"] == "message" for e in batch["events"]):
            return time.perf_counter() - started
        after = batch["last"]
    raise TimeoutError("no answer")


async def one_mode(folder: Path, data: Path, updates, rounds: int) -> tuple[list[float], list[float]]:
    running = await start_sandbox()
    client = SandboxClient(running.url)
    settings = load_settings(environ={
        "QINGFENG_TELEGRAM__BASE_URL": running.url, "QINGFENG_TELEGRAM__POLL_TIMEOUT": "1",
        "QINGFENG_DATABASE__URL": f"sqlite+aiosqlite:///{data / 'bench.db'}", "QINGFENG_BOT__DATA_DIR": str(data),
        "QINGFENG_SECURITY__ENCRYPTION_KEYS": generate_key(), "QINGFENG_ACCESS__SUPERVISORS": str(SUPERVISOR),
        "QINGFENG_KNOWLEDGE__PATH": str(folder), "QINGFENG_KNOWLEDGE__WATCH": "false",
    })
    services = await Services.start(settings)
    application = build_application(services, DEFAULT_TOKEN, updates=updates)
    await application.initialize()
    await application.updater.start_polling(timeout=1)
    await application.start()
    waits, reloads = [], []
    try:
        for user in (SUPERVISOR, CADRE):
            await client.create_user(id=user, first_name="Bench", language_code="en")
        await client.send(CADRE, "/start")
        await answered(client, CADRE, 0)
        for number in range(rounds):
            with (folder / "topics.yaml").open("a", encoding="utf-8") as topics:  # changed files: a full reload
                topics.write(f"\n# round {number} of {updates!r}\n")
            after = (await client.events(after=None, timeout=0))["last"]
            await client.send(SUPERVISOR, "/reload")
            reload = asyncio.create_task(answered(client, SUPERVISOR, after))
            await asyncio.sleep(0.05)
            await client.send(CADRE, "/help")
            waits.append(await answered(client, CADRE, after))
            reloads.append(await reload)
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()
        await services.close()
        await client.aclose()
        await running.stop()
    return waits, reloads


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary) / "knowledge"
        folder.mkdir()
        generate(args.entries, 7, folder)
        cache = Path(temporary) / "knowledge.cache"
        load_engine(folder, cache)  # compiled once: each bot starts warm, as after its first start
        print(f"knowledge base: {args.entries} entries; /help sent 50 ms after /reload, {args.rounds} rounds")
        print(f"{'updates':<12} {'/help waited (s, median)':>26} {'reload took (s, median)':>26}")
        for name, updates in (("sequential", False), ("per-chat", PerChatUpdates())):
            data = Path(temporary) / name
            data.mkdir()
            shutil.copy(cache, data / "knowledge.cache")
            waits, reloads = await one_mode(folder, data, updates, args.rounds)
            print(f"{name:<12} {statistics.median(waits):>26.3f} {statistics.median(reloads):>26.3f}")


if __name__ == "__main__":
    asyncio.run(main())
