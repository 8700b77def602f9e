"""Two bot processes in webhook mode on one PostgreSQL database, updates alternating between them.

Nothing about a conversation lives in a process: a report intake, a /status exchange with a
supervisor and a ledger progress report each complete although every second update reaches the
other process (a load balancer in front of two instances does exactly this).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import shutil
import socket
from datetime import date, timedelta

import aiohttp
import pytest
from aiohttp import web

from bot.db import Database
from tests.conftest import TEST_KEY, _empty_postgres
from tests.e2e import SUPERVISOR_ID, BotProcess, bot_environment, buttons_of, text_of, with_button
from tests.test_e2e_ledger import qingfeng

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")
CODE = re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def alternating_proxy(port: int, targets: list[int]) -> tuple[web.AppRunner, list[int]]:
    """Forwards each webhook call to the next process in turn; records which one took it."""
    turns = itertools.cycle(targets)
    taken: list[int] = []
    # A connection per call: reusing a kept-alive one sometimes raced the server closing it
    # ("Server disconnected"), and the retried update then came after the test had stopped listening.
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True))

    async def forward(request: web.Request) -> web.Response:
        target = next(turns)
        taken.append(target)
        async with session.post(f"http://127.0.0.1:{target}/telegram", data=await request.read(),
                                headers={k: v for k, v in request.headers.items()
                                         if k.lower() in ("content-type", "x-telegram-bot-api-secret-token")}) as answer:
            return web.Response(status=answer.status, body=await answer.read())

    app = web.Application()
    app.router.add_post("/telegram", forward)
    app.on_cleanup.append(lambda _app: session.close())
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, taken


async def _has_text(client, chat_id: int, text: str) -> bool:
    return any(text in (m.get("text") or "") for m in await client.messages(chat_id))


async def _until(condition, seconds: float = 15) -> None:
    for _ in range(int(seconds * 5)):
        if await condition():
            return
        await asyncio.sleep(0.2)
    raise AssertionError("timed out")


@pytest.mark.skipif(not POSTGRES_URL, reason="TEST_DATABASE_URL is not set")
async def test_two_webhook_processes_share_every_conversation(tmp_path, knowledge_cache):
    from bot.sandbox.client import SandboxClient
    from bot.sandbox.app import start_sandbox

    database = Database.connect(POSTGRES_URL)
    await _empty_postgres(database)
    await database.dispose()
    sandbox = await start_sandbox()
    client = SandboxClient(sandbox.url)
    proxy_port, ports = free_port(), [free_port(), free_port()]
    proxy, taken = await alternating_proxy(proxy_port, ports)
    bots = []
    try:
        for number, port in enumerate(ports):
            data_dir = tmp_path / f"bot{number}"
            data_dir.mkdir()
            shutil.copy(knowledge_cache, data_dir / "knowledge.cache")
            env = bot_environment(sandbox.url, POSTGRES_URL, data_dir, TEST_KEY, {
                "QINGFENG_TELEGRAM__MODE": "webhook", "QINGFENG_TELEGRAM__WEBHOOK__PORT": str(port),
                "QINGFENG_TELEGRAM__WEBHOOK__URL": f"http://127.0.0.1:{proxy_port}/telegram",
                "QINGFENG_TELEGRAM__WEBHOOK_SECRET": "two-processes_secret"})
            bot = BotProcess(sandbox, client, data_dir, POSTGRES_URL, env)
            await bot.start()
            bots.append(bot)
        first = bots[0]

        # A report intake, every step answered by whichever process the update reaches.
        reporter = await first.user(language_code="zh")
        assert "第 1 步" in text_of(await reporter.send("/report"))
        assert "第 2 步" in text_of(await reporter.send("1"))
        assert "第 3 步" in text_of(await reporter.send("南湖街道办事处"))
        assert "第 4 步" in text_of(await reporter.send("上个月"))
        assert "第 5 步" in text_of(await reporter.send("街道要求社区每周报送三份内容重复的工作台账，并拍照留痕。"))
        assert "提交" in text_of(await reporter.send("完成"))
        receipt = await reporter.send("提交")
        code = CODE.search(text_of(receipt))[0]
        await reporter.press("我已保存回执码", message=receipt[-1])

        # The supervisor asks (a prompt, then a confirmation); the reporter answers through /status.
        supervisor = await first.supervisor(language_code="en")
        # Their first message releases the new report's notice, waiting since they had never written:
        # let it arrive first, so that it is not taken for the reply to a button pressed later.
        await supervisor.send("/help")
        await _until(lambda: _has_text(client, SUPERVISOR_ID, "New report"))
        inbox = await supervisor.send("/inbox")
        card = await supervisor.press(data=buttons_of(inbox[-1])[0]["callback_data"], message=inbox[-1])
        acknowledged = await supervisor.press("Acknowledge", message=with_button(card, "Acknowledge"))
        await supervisor.press("Ask the reporter", message=with_button(acknowledged, "Ask the reporter"))
        preview = await supervisor.send("Which office asked for the photos?")
        assert "Question sent" in text_of(await supervisor.press("Send", message=preview[-1]))
        assert "Which office asked for the photos?" in text_of(await reporter.send(f"/status {code}"))
        shown = await reporter.send("是街道党政办。")
        assert "已发送给督查人员" in text_of(await reporter.press("📨 发送", message=with_button(shown, "发送")))
        assert "是街道党政办。" in text_of(await reporter.press("刷新"))

        # A ledger progress report, in three messages.
        deadline = (date.today() + timedelta(days=20)).isoformat()
        ledger_file = tmp_path / "ledger.csv"
        ledger_file.write_text(f"编号,问题描述,责任单位,整改时限\nN-1,社区台账重复报送,南湖街道,{deadline}\n", encoding="utf-8")
        await qingfeng(first, "ledger", "import", str(ledger_file), "--round", "第一轮", "--create-units")
        code_line = await qingfeng(first, "units", "invite", "南湖街道", "--lang", "en")
        invite = code_line.split("code: ")[1].split()[0]
        contact = await first.user(language_code="zh")
        assert "南湖街道" in text_of(await contact.send(f"/bind {invite}"))
        tasks = await contact.send("/tasks")
        await contact.press("1.", message=tasks[-1])
        await contact.press("报告进展")
        assert "N-1" in text_of(await contact.send("已合并三份台账为一份。"))
        assert "N-1" in text_of(await contact.send("每周报送改为每月一次。"))
        done = await contact.press("完成")
        assert "进展报告已保存" in text_of(done)

        assert set(taken) == set(ports) and len(taken) > 20  # both processes took turns throughout
        for bot in bots:
            assert "Traceback" not in bot.log_text()
    finally:
        for bot in bots:
            await bot.stop()
        await proxy.cleanup()
        await client.aclose()
        await sandbox.stop()
