"""`newsbot mcp` as a process, reached the way assistants reach it: over stdio with the SDK's own client, or over
HTTP on a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

ROOT = Path(__file__).resolve().parents[2]


@asynccontextmanager
async def stdio_session(env: dict[str, str], log: Path) -> AsyncIterator[ClientSession]:
    """An initialized session with `python -m bot mcp` started by the SDK's stdio client (which passes on only
    `env` and a few safe variables such as PATH and HOME); the server's stderr goes to `log`."""
    params = StdioServerParameters(command=sys.executable, args=["-m", "bot", "mcp"], env=env, cwd=ROOT)
    with log.open("w") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            yield session


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def http_server(address: str, port: int, env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`newsbot mcp --http ADDRESS` running until it accepts connections on 127.0.0.1:`port`; stopped with SIGTERM."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    with log.open("wb") as errlog:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "mcp", "--http", address],
            cwd=ROOT,
            env={**clean, **env},
            stdout=subprocess.DEVNULL,
            stderr=errlog,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None, log.read_text()
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    break
                except OSError:
                    assert time.monotonic() < deadline, "the server did not start listening: " + log.read_text()
                    time.sleep(0.1)
            yield process
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
