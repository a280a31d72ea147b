"""bot.transport.LeanRequest against the project's emulator: what PTB's Bot sees through it."""

from __future__ import annotations

import asyncio

import pytest
from telegram import Bot, InputFile
from telegram.error import BadRequest, NetworkError, TimedOut

from bot.emulator import BotApiEmulator, Faults
from bot.harness import TOKEN
from bot.transport import LeanRequest


async def _bot(emu: BotApiEmulator, request: LeanRequest) -> Bot:
    bot = Bot(TOKEN, base_url=emu.base_url, base_file_url=emu.base_file_url, request=request)
    await bot.initialize()
    return bot


async def test_messages_arrive_intact_over_one_kept_alive_connection(emu: BotApiEmulator) -> None:
    request = LeanRequest(4)
    bot = await _bot(emu, request)
    try:
        texts = [f"第{i}条 <b>通知</b> &amp; “引号” 😀 a+b=c?&x" .replace("&x", "&amp;x") for i in range(20)]
        for text in texts:
            keyboard = {"inline_keyboard": [[{"text": "✅ 收到", "callback_data": "n:a:1"}]]}
            msg = await bot.send_message(501, text, parse_mode="HTML", reply_markup=keyboard)
            assert msg.chat.id == 501
        got = [m.text for m in emu.messages(501)]
        assert got == [f"第{i}条 通知 & “引号” 😀 a+b=c?&x" for i in range(20)]
        assert emu.messages(501)[-1].buttons == [("✅ 收到", "n:a:1")]
        assert sum(len(p) for p in request._idle.values()) == 1  # sequential calls reused one connection
    finally:
        await bot.shutdown()


async def test_telegram_errors_come_back_as_ptb_exceptions(emu: BotApiEmulator) -> None:
    bot = await _bot(emu, LeanRequest(2))
    try:
        with pytest.raises(BadRequest):
            await bot.send_message(999_999, "没有这个聊天")
        assert (await bot.send_message(501, "之后照常")).text == "之后照常"
    finally:
        await bot.shutdown()


async def test_a_dropped_connection_is_a_network_error_and_the_next_call_reconnects(emu: BotApiEmulator) -> None:
    bot = await _bot(emu, LeanRequest(2))
    try:
        emu.faults = Faults(rate=1.0, kinds=("drop",), seed=1)
        with pytest.raises(NetworkError):
            await bot.send_message(501, "掉线")
        emu.faults = None
        assert (await bot.send_message(501, "重连")).text == "重连"
        assert [m.text for m in emu.messages(501)] == ["重连"]
    finally:
        await bot.shutdown()


async def test_a_slow_answer_times_out_by_the_read_timeout(emu: BotApiEmulator) -> None:
    bot = await _bot(emu, LeanRequest(2, read_timeout=0.2))
    try:
        emu.faults = Faults(rate=1.0, kinds=("slow",), slow_seconds=1.0, seed=1)
        with pytest.raises(TimedOut):
            await bot.send_message(501, "慢")
        emu.faults = None
        assert (await bot.send_message(501, "快", read_timeout=5)).text == "快"
    finally:
        await bot.shutdown()


async def test_a_full_pool_times_out_without_sending(emu: BotApiEmulator) -> None:
    request = LeanRequest(1, pool_timeout=0.1)
    bot = await _bot(emu, request)
    try:
        emu.faults = Faults(rate=1.0, kinds=("slow",), slow_seconds=0.5, seed=1)
        first = asyncio.create_task(bot.send_message(501, "占用"))
        await asyncio.sleep(0.05)
        with pytest.raises(TimedOut, match="Pool timeout"):
            await bot.send_message(501, "排队")
        await first
        assert [m.text for m in emu.messages(501)] == ["占用"]
    finally:
        emu.faults = None
        await bot.shutdown()


async def test_uploads_go_through_ptb_httpx_transport(emu: BotApiEmulator) -> None:
    request = LeanRequest(2)
    calls: list[str] = []
    original = request.fallback.do_request

    async def spy(url: str, method: str, *a: object, **kw: object) -> tuple[int, bytes]:
        calls.append(url.rsplit("/", 1)[-1])
        return await original(url, method, *a, **kw)  # type: ignore[arg-type]

    request.fallback.do_request = spy  # type: ignore[method-assign]
    bot = await _bot(emu, request)
    try:
        await bot.send_document(501, InputFile(b"a,b\n1,2\n", filename="stats.csv"), caption="统计")
        await bot.send_message(501, "文字")
        assert calls == ["sendDocument"]
        assert [m.kind for m in emu.messages(501)] == ["document", "text"]
    finally:
        await bot.shutdown()


async def test_a_proxy_in_the_environment_leaves_every_call_to_httpx(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    request = LeanRequest(2)
    seen: list[str] = []

    async def spy(url: str, method: str, *a: object, **kw: object) -> tuple[int, bytes]:
        seen.append(url)
        return 200, b'{"ok":true,"result":true}'

    request.fallback.do_request = spy  # type: ignore[method-assign]
    await request.initialize()
    try:
        assert await request.post("http://127.0.0.1:1/botX/close") is True
        assert seen == ["http://127.0.0.1:1/botX/close"]
    finally:
        await request.shutdown()


async def _canned_server(answers: list[bytes]) -> tuple[asyncio.Server, list[bytes], int]:
    """A raw HTTP server that answers the n-th connection's requests with `answers` in turn (then closes
    if the answer says so); returns the server, the requests it read and its port."""
    seen: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while answers:
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length")))
            seen.append(head + await reader.readexactly(length))
            answer = answers.pop(0)
            writer.write(answer)
            await writer.drain()
            if b"Connection: close" in answer or b"Content-Length" not in answer and b"chunked" not in answer:
                break
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    return server, seen, server.sockets[0].getsockname()[1]


async def test_answers_framed_any_way_http_allows_are_read_whole() -> None:
    body = b'{"ok":true,"result":{"id":"\xe4\xb8\xad"}}'
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"".join(
        b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:10], body[10:])) + b"0\r\n\r\n"
    until_close = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + body
    sized = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    server, seen, port = await _canned_server([sized, chunked, until_close])
    request = LeanRequest(1)
    await request.initialize()
    try:
        for _ in range(3):
            assert await request.post(f"http://127.0.0.1:{port}/botT/getMe") == {"id": "中"}
        assert len(seen) == 3 and seen[0].startswith(b"POST /botT/getMe HTTP/1.1\r\n")
        assert b"Content-Type: application/json" in seen[0] and seen[0].endswith(b"\r\n\r\n{}")
        assert not request._idle.get(("http", "127.0.0.1", port))  # the last answer ended its connection
    finally:
        await request.shutdown()
        server.close()


async def test_a_garbled_answer_is_a_network_error() -> None:
    server, _seen, port = await _canned_server([b"HTTP/1.1 2x0 ?\r\nno headers at all\r\n\r\n"])
    request = LeanRequest(1)
    await request.initialize()
    try:
        with pytest.raises(NetworkError):
            await request.post(f"http://127.0.0.1:{port}/botT/getMe")
    finally:
        await request.shutdown()
        server.close()


async def test_a_url_with_a_line_break_is_refused_before_anything_is_sent() -> None:
    request = LeanRequest(1)
    await request.initialize()
    try:
        with pytest.raises(NetworkError, match="control characters"):
            await request.post("http://127.0.0.1:9/bot1:abc\r\nX-Injected: 1/getMe")
    finally:
        await request.shutdown()
