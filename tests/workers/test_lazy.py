"""Without NEWSBOT_BROKER_URL nothing changes: the service (as `newsbot run` and `poll` build it) does its model work
on its own thread and never loads Celery, kombu or a Redis client."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_main_box_without_a_broker_loads_no_celery(tmp_path: Path) -> None:
    (tmp_path / "f.yaml").write_text("feeds: []\n", encoding="utf-8")
    code = (
        "import sys, asyncio; import bot.cli; from bot.config import load_settings; "
        "from bot.service import make_service; from bot.service.model_work import ModelThread; "
        f"s = make_service(load_settings(db={str(tmp_path / 'n.db')!r}, feeds={str(tmp_path / 'f.yaml')!r})); "
        "assert isinstance(s.model_work, ModelThread) and s.broker is None; "
        "asyncio.run(s.health.report()); asyncio.run(s.aclose()); "
        "loaded = [m for m in ('celery', 'kombu', 'redis', 'bot.workers.app') if m in sys.modules]; "
        "assert not loaded, loaded"
    )
    env = {"PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=env)


def test_a_main_box_with_a_broker_loads_celery_only_when_it_sends(tmp_path: Path) -> None:
    code = (
        "import sys; from bot.config import load_settings; from bot.service import make_service; "
        "from bot.service.celery_work import CeleryWork; "
        f"s = make_service(load_settings(db={str(tmp_path / 'n.db')!r}, broker_url='redis://127.0.0.1:1/0')); "
        "assert isinstance(s.model_work, CeleryWork); assert 'celery' not in sys.modules; "
        "s.model_work.app; assert 'celery' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env={"PATH": "/usr/bin:/bin"})
