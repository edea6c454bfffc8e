"""The fake Bot API refuses what Telegram refuses, so the bot tests that pass against it mean something."""

from __future__ import annotations

import asyncio

import httpx

from tests.fakebotapi import TOKEN, FakeBotAPI


async def send(
    client: httpx.AsyncClient, api: FakeBotAPI, chat_id: int, text: str, html: bool = True
) -> httpx.Response:
    data = {"chat_id": str(chat_id), "text": text}
    if html:
        data["parse_mode"] = "HTML"
    return await client.post(f"{api.base_url}{TOKEN}/sendMessage", data=data)


async def test_limits_and_html_are_enforced() -> None:
    with FakeBotAPI(rate=25, chat_rate=1) as api:
        async with httpx.AsyncClient() as client:
            burst = await asyncio.gather(*(send(client, api, 1000 + i, "hi") for i in range(60)))
            statuses = [r.status_code for r in burst]
            assert statuses.count(200) < 40 and statuses.count(429) > 20  # 60 at once: well over 25/s
            assert burst[statuses.index(429)].json()["parameters"]["retry_after"] == 1
            await asyncio.sleep(1.5)
            first, second = [await send(client, api, 7, "one"), await send(client, api, 7, "two")]
            assert (first.status_code, second.status_code) == (200, 429)  # one chat, twice in a moment
            await asyncio.sleep(1.1)
            assert (await send(client, api, 8, "<b>x</i>")).json()["description"].startswith("Bad Request: can't parse")
            assert (await send(client, api, 8, "<script>x</script>")).status_code == 400
            assert (await send(client, api, 9, "a < b")).status_code == 400
            too_long = await send(client, api, 10, "<b>" + "x" * 4097 + "</b>")
            assert too_long.json()["description"] == "Bad Request: message is too long"
            fits = await send(client, api, 11, "<b>" + "x" * 4096 + "</b>")  # counted after parsing
            assert fits.status_code == 200
            assert (await send(client, api, 12, "&lt;" * 4096)).status_code == 200
            assert (await client.post(f"{api.base_url}wrong-token/getMe")).status_code == 401
