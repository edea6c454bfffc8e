# newsbot: slim Python, CPU-only torch, non-root user, the database on the /data volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    NEWSBOT_DB=/data/newsbot.db \
    NEWSBOT_FEEDS=/data/feeds.yaml \
    NEWSBOT_MODEL_DIR=/opt/newsbot/models

WORKDIR /opt/newsbot

# The IANA time zones for /schedule (slim images have none; the tzdata wheel is the fallback inside Python).
RUN apt-get update && apt-get install -y --no-install-recommends tzdata && rm -rf /var/lib/apt/lists/*

# torch first, from the CPU index: a bare requirement would pull a multi-GB CUDA build (same rule as the README).
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY summarizer ./summarizer
RUN pip install .

COPY feeds.yaml /opt/newsbot/feeds.default.yaml
RUN useradd --system --create-home --uid 10001 newsbot \
    && mkdir -p /data "$NEWSBOT_MODEL_DIR" && chown newsbot:newsbot /data "$NEWSBOT_MODEL_DIR"
USER newsbot
# The models go into the image, so the container never needs the hub: every language the default feed list offers.
RUN NEWSBOT_FEEDS=/opt/newsbot/feeds.default.yaml newsbot models download
# They are here: `run` has nothing to fetch at start (a language added later: `newsbot models download` with the hub).
ENV HF_HUB_OFFLINE=1 \
    NEWSBOT_AUTO_DOWNLOAD=0
VOLUME ["/data"]
# Unhealthy when the bot's heartbeat (written every 30 s into the database) is older than NEWSBOT_HEARTBEAT_MAX_AGE.
HEALTHCHECK --interval=60s --timeout=30s --start-period=120s --retries=3 CMD ["newsbot", "health"]

# On first start the volume holds no feed list yet: seed it from the curated default, never overwrite an edited one.
ENTRYPOINT ["/bin/sh", "-c", "[ -f \"$NEWSBOT_FEEDS\" ] || cp /opt/newsbot/feeds.default.yaml \"$NEWSBOT_FEEDS\"; exec newsbot \"$@\"", "newsbot"]
CMD ["run"]
