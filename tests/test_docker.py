"""The Dockerfile and compose.yaml read against the docs (Docker has no engine here): the rules an image must keep,
and the commands docs/operating.md gives using the same image, volume and restart policy."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
OPERATING = (ROOT / "docs" / "operating.md").read_text(encoding="utf-8")


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    lines = [line.strip() for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]


def position(what: str, needle: str) -> int:
    return next(n for n, (op, args) in enumerate(instructions()) if op == what and needle in args)


def test_the_image_keeps_its_rules() -> None:
    steps = instructions()
    assert position("RUN", "torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu") < position(
        "RUN", "pip install ."
    )
    assert position("RUN", "tzdata") >= 0
    # Models go in at build time, as the non-root user; the running container never asks the hub.
    assert (
        position("USER", "newsbot") < position("RUN", "newsbot models download") < position("ENV", "HF_HUB_OFFLINE=1")
    )
    # ... so `run` fetches nothing at start (NEWSBOT_AUTO_DOWNLOAD=0 once the models are in).
    assert position("RUN", "newsbot models download") < position("ENV", "NEWSBOT_AUTO_DOWNLOAD=0")
    env = " ".join(args for op, args in steps if op == "ENV")
    assert "NEWSBOT_DB=/data/newsbot.db" in env and "NEWSBOT_FEEDS=/data/feeds.yaml" in env
    assert ("VOLUME", '["/data"]') in steps
    assert ("CMD", '["run"]') in steps and steps[-1] == ("CMD", '["run"]')
    assert position("HEALTHCHECK", 'CMD ["newsbot", "health"]') >= 0
    # First start: the curated feed list is copied onto the volume unless one is there.
    [entrypoint] = [args for op, args in steps if op == "ENTRYPOINT"]
    assert '[ -f \\"$NEWSBOT_FEEDS\\" ] || cp /opt/newsbot/feeds.default.yaml' in entrypoint
    assert "exec newsbot" in entrypoint


def test_compose_and_the_docs_run_the_same_container() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    service = compose["services"]["newsbot"]
    assert service["restart"] == "unless-stopped" and service["env_file"] == ".env"
    assert service["volumes"] == ["newsbot-data:/data"] and "newsbot-data" in compose["volumes"]
    block = OPERATING.split("## Docker", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands = [line for line in block.strip().splitlines()]
    assert commands[0] == "docker build -t newsbot ."
    run = commands[1].split()
    assert run[:3] == ["docker", "run", "-d"] and run[-1] == "newsbot"
    assert run[run.index("-v") + 1] == service["volumes"][0]
    assert run[run.index("--restart") + 1] == service["restart"]
    assert "-e" in run and run[run.index("-e") + 1] == "TELEGRAM_BOT_TOKEN"
    assert "docker compose up -d" in OPERATING and ".env" in (ROOT / ".gitignore").read_text(encoding="utf-8")


def test_the_workers_profile_runs_redis_with_its_append_only_file_and_workers_from_the_same_image() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert "profiles" not in services["newsbot"]  # `docker compose up -d` alone: the bot, as before
    redis = services["redis"]
    assert redis["image"].startswith("redis:7") and "--appendonly" in redis["command"]
    assert redis["command"][redis["command"].index("--appendonly") + 1] == "yes"
    assert redis["volumes"][0].endswith(":/data") and redis["volumes"][0].split(":")[0] in compose["volumes"]
    for name, device in (("worker", "cpu"), ("gpu-worker", "cuda")):
        worker = services[name]
        assert worker["image"] == services["newsbot"]["image"] and worker["command"][0] == "worker"
        assert worker["environment"]["NEWSBOT_BROKER_URL"] == "redis://redis:6379/0"
        assert worker["environment"]["NEWSBOT_DEVICE"] == device
        assert set(worker["profiles"]) <= set(redis["profiles"])  # never a worker without its Redis
    reserved = services["gpu-worker"]["deploy"]["resources"]["reservations"]["devices"][0]
    assert reserved["driver"] == "nvidia" and reserved["capabilities"] == ["gpu"]
    scaling = (ROOT / "docs" / "scaling.md").read_text(encoding="utf-8")
    assert "docker compose --profile workers up -d" in scaling
