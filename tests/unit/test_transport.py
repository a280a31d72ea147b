"""The Bot API transport (bot/telegram_http.py) against real local servers: TLS with a throwaway CA
(`trustme`), trusted the way an operator trusts a private CA (SSL_CERT_FILE); a wrong certificate is
refused with a clear log line; HTTPS_PROXY and `[telegram] proxy` carry the calls through a proxy.
No database, no emulator: a few lines of HTTP/1.1 on asyncio streams stand in for Telegram."""

from __future__ import annotations

import asyncio
import json
import re
import ssl
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import trustme
from telegram.error import NetworkError

from bot.telegram_http import DeskRequest

ME = {"id": 1, "is_bot": True, "first_name": "值班台", "username": "t_bot"}
PROXY_VARS = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "all_proxy",
              "no_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR")


async def _read_message(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    m = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
    return head, await reader.readexactly(int(m.group(1))) if m else b""


class BotApi:
    """Answers every POST with getMe's result; records the request lines."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.server: asyncio.Server | None = None

    async def start(self, tls: ssl.SSLContext | None) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=tls)
        port = self.server.sockets[0].getsockname()[1]
        return f"{'https' if tls else 'http'}://127.0.0.1:{port}/bot123:TOKEN"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head, _body = await _read_message(reader)
                self.requests.append(head.split(b"\r\n", 1)[0].decode())
                body = json.dumps({"ok": True, "result": ME}).encode()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                             % (len(body), body))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


class Proxy:
    """A forward proxy: CONNECT tunnels (HTTPS) and absolute-form requests (plain HTTP)."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.server: asyncio.Server | None = None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head, body = await _read_message(reader)
            line = head.split(b"\r\n", 1)[0].decode()
            self.seen.append(line)
            method, target, _version = line.split()
            if method == "CONNECT":
                host, port = target.rsplit(":", 1)
                up_r, up_w = await asyncio.open_connection(host, int(port))
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                await asyncio.gather(_pipe(reader, up_w), _pipe(up_r, writer))
                return
            url = urlsplit(target)
            up_r, up_w = await asyncio.open_connection(url.hostname, url.port)
            while True:  # each request of the kept-alive connection, rewritten to origin form
                up_w.write(head.replace(target.encode(), (url.path or "/").encode(), 1) + body)
                answer_head, answer_body = await _read_message(up_r)
                writer.write(answer_head + answer_body)
                await writer.drain()
                head, body = await _read_message(reader)
                line = head.split(b"\r\n", 1)[0].decode()
                self.seen.append(line)
                target = line.split()[1]
                url = urlsplit(target)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()


async def _pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
    try:
        while data := await src.read(65536):
            dst.write(data)
            await dst.drain()
    except ConnectionError:
        pass
    finally:
        dst.close()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    for var in PROXY_VARS:
        monkeypatch.delenv(var, raising=False)
    yield monkeypatch


@pytest.fixture
def ca(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> trustme.CA:
    """A throwaway CA the process trusts, as an operator trusts a private one (SSL_CERT_FILE)."""
    authority = trustme.CA()
    pem = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(pem))
    clean_env.setenv("SSL_CERT_FILE", str(pem))
    return authority


def _server_tls(cert: trustme.LeafCert) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(ctx)
    return ctx


@pytest.fixture
async def api() -> AsyncIterator[BotApi]:
    server = BotApi()
    yield server
    await server.stop()


@pytest.fixture
async def proxy() -> AsyncIterator[Proxy]:
    p = Proxy()
    yield p
    await p.stop()


async def _get_me(base: str, **kw: str) -> object:
    request = DeskRequest(2, **kw)
    await request.initialize()
    try:
        return await request.post(f"{base}/getMe")
    finally:
        await request.shutdown()


async def test_a_certificate_from_the_trusted_ca_is_accepted(ca: trustme.CA, api: BotApi) -> None:
    base = await api.start(_server_tls(ca.issue_cert("127.0.0.1")))
    assert await _get_me(base) == ME
    assert api.requests == ["POST /bot123:TOKEN/getMe HTTP/1.1"]


@pytest.mark.parametrize("wrong", ["another CA", "another host"])
async def test_a_wrong_certificate_is_refused_with_a_clear_log_line(
        wrong: str, ca: trustme.CA, api: BotApi, caplog: pytest.LogCaptureFixture) -> None:
    cert = trustme.CA().issue_cert("127.0.0.1") if wrong == "another CA" else ca.issue_cert("api.telegram.org")
    base = await api.start(_server_tls(cert))
    with pytest.raises(NetworkError):
        await _get_me(base)
    assert api.requests == []  # nothing was sent
    refused = [r for r in caplog.records if r.name == "bot.telegram_http" and r.levelname == "ERROR"]
    assert len(refused) == 1, caplog.text
    message = refused[0].getMessage()
    assert message.startswith("TLS certificate of 127.0.0.1 refused (")
    assert ("unable to get local issuer certificate" if wrong == "another CA" else "mismatch") in message


async def test_https_proxy_from_the_environment_carries_the_calls(ca: trustme.CA, api: BotApi,
                                                                  proxy: Proxy, clean_env: pytest.MonkeyPatch) -> None:
    base = await api.start(_server_tls(ca.issue_cert("127.0.0.1")))
    clean_env.setenv("HTTPS_PROXY", await proxy.start())
    assert await _get_me(base) == ME
    port = urlsplit(base).port
    assert proxy.seen == [f"CONNECT 127.0.0.1:{port} HTTP/1.1"]  # TLS end to end, through the tunnel
    assert api.requests == ["POST /bot123:TOKEN/getMe HTTP/1.1"]


async def test_http_proxy_from_the_environment_and_the_configured_proxy(api: BotApi, proxy: Proxy,
                                                                         clean_env: pytest.MonkeyPatch) -> None:
    base = await api.start(None)
    via = await proxy.start()
    clean_env.setenv("HTTP_PROXY", via)
    assert await _get_me(base) == ME
    clean_env.delenv("HTTP_PROXY")
    assert await _get_me(base, proxy=via) == ME  # [telegram] proxy
    assert proxy.seen == [f"POST {base}/getMe HTTP/1.1"] * 2
    assert await _get_me(base) == ME  # and without either, straight to the server
    assert len(proxy.seen) == 2 and len(api.requests) == 3
