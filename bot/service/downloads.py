"""The first run's models: at the start of `newsbot run` (and `poll`), the configured models that are missing are
fetched (and, for CTranslate2, converted) in the background, one progress line per model in the log, the state in
the store for `newsbot health` and /health. The bot serves meanwhile; stories summarized without the models are
done again once they are here (the models' fingerprint changes). An unreachable hub is one warning, not a retry
storm: the admin runs `newsbot models download` when it is back."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from bot.service.context import Context
from bot.service.engines import Engines

log = logging.getLogger(__name__)

PROCESS = "run"  # whose downloads the store keeps: the one process that fetches
SAVE_EVERY = 2.0  # seconds between two saves of the state while bytes come in
MB = 1_000_000


@dataclass(frozen=True)
class DownloadState:
    """What the background download is doing. `state`: fetching, converting, done or failed."""

    state: str
    models: list[str] = field(default_factory=list)  # the missing ones it set out to fetch
    done: int = 0  # of them, fetched (and converted)
    current: str | None = None  # the model under way
    current_mb: float | None = None
    current_total_mb: float | None = None
    error: str | None = None  # why it failed: one sentence, with what to do

    def describe(self) -> str:
        """One line for `newsbot health` and /health's log: "downloading 2 of 5 (name: 120 of 344 MB)"."""
        if self.state == "failed":
            return f"model download failed: {self.error}"
        if self.state == "done":
            return f"models downloaded: {self.done} of {len(self.models)}"
        verb = "converting" if self.state == "converting" else "downloading"
        line = f"{verb} {self.done + 1} of {len(self.models)}"
        if self.current:
            line += f" ({self.current}"
            if self.current_mb is not None:
                line += f": {self.current_mb:.0f}" + (
                    f" of {self.current_total_mb:.0f} MB" if self.current_total_mb else " MB"
                )
            line += ")"
        return line


class ModelDownloads:
    def __init__(self, ctx: Context, engines: Engines) -> None:
        self.ctx = ctx
        self.engines = engines
        self._state: DownloadState | None = None
        self._lock = threading.Lock()  # the state is set from the download's threads
        self._started: dict[str, float] = {}  # model -> when its download started, for the rate
        self.endpoint: str | None = None  # the hub; None: huggingface_hub's (HF_ENDPOINT, else the Hugging Face Hub)

    async def state(self) -> DownloadState | None:
        """The state the fetching process saved last (this one or `newsbot run`), None when it never fetched."""
        saved = await self.ctx.db(self.ctx.store.download_state, PROCESS)
        return DownloadState(**saved[0]) if saved else None

    async def fetch_missing(self, on_ready: Callable[[], None] | None = None) -> DownloadState | None:
        """Fetch the configured models that are missing, once, now (the download itself off the event loop), then
        call `on_ready` (the enrichment worker's wake-up); None when nothing is missing or NEWSBOT_AUTO_DOWNLOAD=0.
        Never raises: a failure is logged once and kept."""
        config = await self.engines.config()
        from summarizer.download import missing_models

        # The extractive backend loads none of the engine's models (an answer model is the admin's to fetch).
        missing = [] if config.backend == "extractive" else await asyncio.to_thread(missing_models, config)
        if not missing or not self.ctx.settings.auto_download:
            await self.ctx.db(self.ctx.store.forget_download_state, PROCESS)  # an old run's state would mislead
            return None
        log.info("%d models are missing; fetching them in the background: %s", len(missing), ", ".join(missing))
        self._set(DownloadState("fetching", missing))
        saving = asyncio.create_task(self._save_while_running())
        try:
            final = await asyncio.to_thread(self._fetch, config, missing)
        finally:
            saving.cancel()
        await self._save(final)
        if final.state == "done" and on_ready is not None:
            on_ready()
        return final

    def _fetch(self, config: Any, missing: list[str]) -> DownloadState:
        from summarizer.convert import convert_models
        from summarizer.download import download_models, locate_model

        def status(name: str, what: str) -> None:
            with self._lock:
                assert self._state is not None
                if what == "fetching":
                    self._started[name] = time.monotonic()
                    self._state = replace(self._state, current=name, current_mb=None, current_total_mb=None)
                elif what in ("done", "not_found", "local") and name in self._state.models:
                    self._state = replace(self._state, done=self._state.done + 1, current=None)
            if what == "not_found":
                log.warning("model %s is not on the hub: its language falls back (see `newsbot models list`)", name)

        def converting(name: str, what: str) -> None:
            with self._lock:
                assert self._state is not None
                if what == "converting":
                    self._state = replace(self._state, current=name, current_mb=None, current_total_mb=None)
                elif name in self._state.models:
                    self._state = replace(self._state, done=self._state.done + 1, current=None)
            if what in ("converting", "converted"):
                log.info("model %s: %s for CTranslate2", name, what)

        try:
            # Fetched but not converted (ctranslate2) needs no hub: only what is not here is fetched.
            absent = [name for name in missing if locate_model(name, config.model_dir) is None]
            self._set(DownloadState("fetching", absent))
            if absent:
                download_models(
                    config, progress=status, bytes_progress=self._bytes, only=absent, endpoint=self.endpoint
                )
            if config.backend == "ctranslate2":
                self._set(DownloadState("converting", missing))
                convert_models(config, progress=converting)
        # Whatever fails (the hub, the disk, a conversion), the bot goes on without the models and says so once.
        except Exception as e:
            names = ", ".join(missing)
            error = f"{e}; the stories wait untranslated until `newsbot models download` fetches {names}"
            log.warning("could not fetch the missing models: %s", error)
            with self._lock:
                assert self._state is not None
                self._state = replace(self._state, state="failed", current=None, error=error)
                return self._state
        log.info("models ready: %s; stories are summarized with them from the next pass", ", ".join(missing))
        with self._lock:
            self._state = DownloadState("done", missing, len(missing))
            return self._state

    def _bytes(self, name: str, on_disk: int, total: int | None) -> None:
        """A progress line: the model, MB on disk of its total, the rate since its download began."""
        elapsed = time.monotonic() - self._started.get(name, time.monotonic())
        of = f" of {total / MB:.1f}" if total else ""
        rate = f", {on_disk / MB / elapsed:.2f} MB/s" if elapsed > 0 else ""
        log.info("downloading %s: %.1f%s MB%s", name, on_disk / MB, of, rate)
        with self._lock:
            if self._state is not None and self._state.current == name:
                self._state = replace(
                    self._state, current_mb=on_disk / MB, current_total_mb=total / MB if total else None
                )

    def _set(self, state: DownloadState) -> None:
        with self._lock:
            self._state = state

    async def _save_while_running(self) -> None:
        while True:
            with self._lock:
                state = self._state
            if state is not None:
                await self._save(state)
            await asyncio.sleep(SAVE_EVERY)

    async def _save(self, state: DownloadState) -> None:
        await self.ctx.db(self.ctx.store.save_download_state, PROCESS, asdict(state), self.ctx.now())
