"""Settings come from the fixed environment names in DESIGN.md."""

import pytest

from bot.config import load_settings
from bot.errors import ConfigError


def test_fixed_names_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_ADMIN_IDS", "12, 34")
    monkeypatch.setenv("NEWSBOT_ALLOW_PRIVATE_URLS", "1")
    monkeypatch.setenv("NEWSBOT_POLL_INTERVAL", "60")
    monkeypatch.setenv("NEWSBOT_BACKEND", "extractive")
    settings = load_settings()
    assert settings.admin_ids == {12, 34}
    assert settings.allow_private_urls is True
    assert settings.poll_interval == 60
    assert settings.backend == "extractive"


def test_bad_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_BACKEND", "gpt")
    with pytest.raises(ConfigError, match="NEWSBOT_BACKEND"):
        load_settings()


def test_token_never_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:secret")
    assert "secret" not in repr(load_settings())


def test_the_mcp_token_is_a_secret_and_empty_is_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_MCP_TOKEN", "mcp-hunter2")
    settings = load_settings()
    assert settings.mcp_token is not None and settings.mcp_token.get_secret_value() == "mcp-hunter2"
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings.mcp_token)
    assert "hunter2" not in settings.model_dump_json()
    monkeypatch.setenv("NEWSBOT_MCP_TOKEN", "")
    assert load_settings().mcp_token is None


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("NEWSBOT_WEBHOOK_URL", "http://bot.example/hook", "https:// URLs only"),
        ("NEWSBOT_WEBHOOK_LISTEN", "8443", "is not host:port"),
        ("NEWSBOT_WEBHOOK_LISTEN", "127.0.0.1:99999", "is not host:port"),
        ("NEWSBOT_WEBHOOK_SECRET", "has spaces", "NEWSBOT_WEBHOOK_SECRET"),
    ],
)
def test_webhook_settings_are_checked(monkeypatch: pytest.MonkeyPatch, name: str, value: str, says: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name) as refused:
        load_settings()
    assert says in str(refused.value)


def test_webhook_listen_reads_ipv6(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.config import listen_address

    assert listen_address("[::1]:8443") == ("::1", 8443) and listen_address("0.0.0.0:80") == ("0.0.0.0", 80)


def test_the_default_backend_is_the_one_the_engine_benchmark_measured_fastest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSBOT_BACKEND", raising=False)
    assert load_settings().backend == "ctranslate2"
    monkeypatch.setenv("NEWSBOT_BACKEND", "transformers")  # still selectable
    assert load_settings().backend == "transformers"
