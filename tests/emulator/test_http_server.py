"""The HTTP layer itself: keep-alive pipelining, chunked and multipart bodies, GET params."""

from __future__ import annotations

import asyncio
import json

import httpx

from bot.emulator import BotApiEmulator


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, object]]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode()
    status = int(head.split(" ")[1])
    length = int(next(h.split(":")[1] for h in head.split("\r\n") if h.lower().startswith("content-length")))
    return status, json.loads(await reader.readexactly(length))


async def test_pipelined_and_chunked_requests(emu: BotApiEmulator) -> None:
    emu.user(5001, "Ma", started=True)
    reader, writer = await asyncio.open_connection(emu.host, emu.port)
    body = b"chat_id=5001&text=%E4%BD%A0%E5%A5%BD"
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    writer.write(
        f"GET /bot{emu.token}/getMe HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        + f"POST /bot{emu.token}/sendMessage HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        + chunked
        + f"GET /bot{emu.token}/sendMessage?chat_id=5001&text=q HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    )
    await writer.drain()
    s1, r1 = await _read_response(reader)
    s2, r2 = await _read_response(reader)
    s3, r3 = await _read_response(reader)
    writer.close()
    assert (s1, s2, s3) == (200, 200, 200)
    assert r1["result"]["is_bot"] is True  # type: ignore[index]
    assert r2["result"]["text"] == "你好"  # type: ignore[index]
    assert r3["result"]["message_id"] == 2  # type: ignore[index]


async def test_multipart_with_json_fields(emu: BotApiEmulator) -> None:
    user = emu.user(5002, "Niu", started=True)
    markup = {"inline_keyboard": [[{"text": "看", "callback_data": "v"}]]}
    async with httpx.AsyncClient() as client:
        r = await client.post(
            f"{emu.base_url}{emu.token}/sendDocument",
            data={"chat_id": "5002", "caption": "<b>附件</b>", "parse_mode": "HTML",
                  "reply_markup": json.dumps(markup)},
            files={"document": ("plan.txt", b"hello", "text/plain")},
        )
    res = r.json()["result"]
    assert res["document"]["file_name"] == "plan.txt" and res["caption"] == "附件"
    assert res["reply_markup"] == markup
    assert user.last is not None and user.last.buttons == [("看", "v")]


async def test_stop_with_pending_long_poll(emu: BotApiEmulator) -> None:
    async with httpx.AsyncClient() as client:
        poll = asyncio.create_task(client.post(f"{emu.base_url}{emu.token}/getUpdates", data={"timeout": "30"},
                                               timeout=5))
        await emu.wait_until(lambda: emu.stats.requests.get("getUpdates", 0) == 1, 5)  # it is waiting
        # A second poller terminates the first with 409, as Telegram does.
        second = asyncio.create_task(client.post(f"{emu.base_url}{emu.token}/getUpdates", data={"timeout": "30"},
                                                 timeout=5))
        first = await poll
        assert first.status_code == 409 and "terminated by other getUpdates" in first.json()["description"]
        assert emu.stats.requests.get("getUpdates", 0) == 2  # the second is the one waiting now
        await emu.stop()
        try:
            await second
        except httpx.HTTPError:
            pass  # connection closed by the stopping server: fine
