"""The fake Bot API refuses what Telegram refuses, so the bot tests that pass against it mean something."""

from __future__ import annotations

import asyncio
import json

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


async def test_inline_keyboards_callbacks_and_edits() -> None:
    """Keyboards are checked as Telegram checks them; a press reaches getUpdates; a query is answered once; edits
    change what the chat shows, and an edit that changes nothing is refused."""
    button = {"text": "📖 1", "callback_data": "a:1"}
    with FakeBotAPI() as api:
        async with httpx.AsyncClient() as client:

            async def call(method: str, **data: object) -> httpx.Response:
                form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}
                return await client.post(f"{api.base_url}{TOKEN}/{method}", data=form)

            for bad in (
                {"inline_keyboard": [[{"text": "x", "callback_data": "y" * 65}]]},
                {"inline_keyboard": [[{"text": "x"}]]},
                {"inline_keyboard": [[{"text": "x", "callback_data": "y", "url": "https://a.example"}]]},
                {"inline_keyboard": [[{"text": "x", "url": "javascript:alert(1)"}]]},
                {"inline_keyboard": "no"},
            ):
                assert (await call("sendMessage", chat_id="5", text="hi", reply_markup=bad)).status_code == 400, bad
            sent = await call("sendMessage", chat_id="5", text="hi", reply_markup={"inline_keyboard": [[button]]})
            message_id = sent.json()["result"]["message_id"]
            assert api.keyboard(5, message_id) == [[button]] and api.sent[-1].reply_markup == {
                "inline_keyboard": [[button]]
            }

            press = await asyncio.to_thread(api.press, 5, message_id, "a:1")
            updates = (await call("getUpdates", offset="0", timeout="1")).json()["result"]
            query = updates[-1]["callback_query"]
            assert (query["data"], query["message"]["reply_markup"]["inline_keyboard"][0][0]) == ("a:1", button)
            assert (
                await call("answerCallbackQuery", callback_query_id=press.query_id, text="x" * 201)
            ).status_code == 400
            assert (await call("answerCallbackQuery", callback_query_id=press.query_id, text="ok")).status_code == 200
            assert (await call("answerCallbackQuery", callback_query_id=press.query_id)).status_code == 400
            assert (await call("answerCallbackQuery", callback_query_id="q999")).status_code == 400
            assert api.answered(press) == [{"callback_query_id": press.query_id, "text": "ok"}]

            other = {"inline_keyboard": [[{"text": "👍", "callback_data": "v:1:1"}]]}
            edit = await call("editMessageReplyMarkup", chat_id="5", message_id=str(message_id), reply_markup=other)
            assert edit.status_code == 200 and api.keyboard(5, message_id) == other["inline_keyboard"]
            same = await call("editMessageReplyMarkup", chat_id="5", message_id=str(message_id), reply_markup=other)
            assert same.json()["description"] == "Bad Request: message is not modified"
            text = await call(
                "editMessageText", chat_id="5", message_id=str(message_id), text="<b>new</b>", parse_mode="HTML"
            )
            assert text.status_code == 200 and api.shown[(5, message_id)].visible == "new"
            assert (
                api.keyboard(5, message_id) == []
            )  # an edit without reply_markup drops the keyboard, as Telegram does
            missing = await call("editMessageText", chat_id="5", message_id="1", text="x")
            assert missing.json()["description"] == "Bad Request: message to edit not found"
