"""check-config explains every problem in one line and never prints the token."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.config import ConfigError, load_config

# A token shaped like @BotFather's (digits, a colon, 35 characters); not a real one.
SHAPED = "123456:" + "A1b2_C3d4-" * 3 + "E5f6g"
ON_TELEGRAM = f'[telegram]\ntoken = "{SHAPED}"\n'

GOOD = """
[telegram]
token = "123456:super-secret-value"
base_url = "http://127.0.0.1:8081/bot"

[programme]
default_time_zone = "America/El_Salvador"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"


def test_example_config_is_valid_once_given_a_token() -> None:
    # The example's token is a placeholder; the file says to prefer the environment variable.
    environ = {"CONSULTBOT_TELEGRAM__TOKEN": SHAPED}
    config = load_config(EXAMPLE, environ=environ, for_telegram=True)
    assert config.telegram.mode == "polling"
    assert config.programme.default_language == "es"
    with pytest.raises(ConfigError, match="not a token from @BotFather"):
        load_config(EXAMPLE, environ={}, for_telegram=True)


def _refusals(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> list[str]:
    """check-config's stderr lines for this file; it must have exited with status 2."""
    with pytest.raises(SystemExit) as exited:
        main(["check-config", "--config", str(_write(tmp_path, text))])
    assert exited.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert all(line.startswith("config: ") for line in lines)
    return lines


@pytest.mark.parametrize(
    "token",
    [
        "replace-with-your-token",
        "abc",
        "1:x",
        SHAPED[:-1],  # 34 characters after the colon
        SHAPED + "h",  # 36
        SHAPED.replace("_", "."),
        "bot" + SHAPED,
    ],
)
def test_a_token_not_shaped_like_botfathers_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], token: str
) -> None:
    lines = _refusals(tmp_path, capsys, f'[telegram]\ntoken = "{token}"\n')
    assert lines == [
        "config: telegram.token: not a token from @BotFather (digits, a colon, then 35 letters,"
        " digits, _ or -)"
    ]
    assert token not in lines[0]


@pytest.mark.parametrize(
    ("delivery", "expected"),
    [
        ("rate_per_second = 5000", "5000 is above Telegram's 30 messages per second"),
        ("rate_per_second = 31", "31 is above Telegram's 30 messages per second"),
        (
            "rate_per_second = 1001\npaid_broadcasts = true",
            "1001 is above Telegram's 1,000 messages per second",
        ),
        ("per_chat_interval_seconds = 0.5", "under Telegram's one message per second"),
    ],
)
def test_rates_above_telegrams_limits_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], delivery: str, expected: str
) -> None:
    lines = _refusals(tmp_path, capsys, ON_TELEGRAM + "[delivery]\n" + delivery + "\n")
    assert len(lines) == 1 and expected in lines[0]


@pytest.mark.parametrize(
    "delivery", ["rate_per_second = 30", "rate_per_second = 1000\npaid_broadcasts = true"]
)
def test_rates_within_telegrams_limits_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], delivery: str
) -> None:
    text = ON_TELEGRAM + "[admins]\nuser_ids = [1]\n[delivery]\n" + delivery + "\n"
    assert main(["check-config", "--config", str(_write(tmp_path, text))]) == 0
    out = capsys.readouterr()
    assert "config OK" in out.out and out.err == ""


def test_off_telegram_any_token_and_rate_are_accepted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The emulator and benchmarks run faster than Telegram allows, with tokens like "1:x".
    text = (
        '[telegram]\ntoken = "1:x"\nbase_url = "http://127.0.0.1:8081/bot"\n'
        "[delivery]\nrate_per_second = 5000\nper_chat_interval_seconds = 0\n"
    )
    assert main(["check-config", "--config", str(_write(tmp_path, text))]) == 0
    assert "config OK" in capsys.readouterr().out


def test_good_config_passes_without_showing_the_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check-config", "--config", str(_write(tmp_path, GOOD))]) == 0
    out = capsys.readouterr()
    assert "config OK" in out.out
    assert "super-secret" not in out.out + out.err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[telegram]\nbase_url = 'http://x/bot'\n", "telegram.token: missing (required)"),
        (GOOD + "\n[storage]\npath = 'x.db'\ncolour = 'red'\n", "storage.colour: unknown key"),
        (
            GOOD.replace("America/El_Salvador", "America/Atlantis"),
            "programme.default_time_zone: unknown time zone 'America/Atlantis'",
        ),
        (
            GOOD.replace("http://127.0.0.1:8081/bot", "telegram.example"),
            "telegram.base_url: base_url must be an http(s) URL",
        ),
        ("[telegram\ntoken=1", "not valid TOML"),
        (ON_TELEGRAM + "mode = 'webhook'\n", "telegram: webhook mode needs webhook_url"),
    ],
)
def test_each_bad_config_is_explained_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["check-config", "--config", str(_write(tmp_path, text))])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert expected in err
    assert all(line.startswith("config: ") for line in err.strip().splitlines())
    assert "super-secret" not in err


def test_several_problems_are_all_reported(tmp_path: Path) -> None:
    text = (
        GOOD.replace("America/El_Salvador", "Nowhere/Zone")
        + "\n[admins]\nuser_ids = [1]\nfoo = 2\n"
    )
    with pytest.raises(ConfigError) as raised:
        load_config(_write(tmp_path, text), environ={})
    assert len(raised.value.problems) == 2


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    config = load_config(
        _write(tmp_path, GOOD),
        environ={
            "CONSULTBOT_TELEGRAM__TOKEN": "999:from-env",
            "CONSULTBOT_STORAGE__PATH": "/tmp/other.db",
            "CONSULTBOT_ADMINS__USER_IDS": "[5, 6]",
        },
    )
    assert config.telegram.token.get_secret_value() == "999:from-env"
    assert str(config.storage.path) == "/tmp/other.db"
    assert config.admins.user_ids == (5, 6)
    assert "from-env" not in repr(config)


def test_risky_settings_are_warned_about(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = ON_TELEGRAM + 'mode = "webhook"\nwebhook_url = "https://x.org/hook"\n'
    assert main(["check-config", "--config", str(_write(tmp_path, text))]) == 0
    err = capsys.readouterr().err
    assert "webhook_secret_token is not set" in err
    assert "nobody can grant roles" in err


def test_missing_file_is_explained(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "absent.toml", environ={})


def test_a_storage_url_in_the_environment_moves_a_configured_deployment(tmp_path: Path) -> None:
    """`path` in the file, `url` in the environment: PostgreSQL wins; no password is shown."""
    url = "postgresql://consultbot:s3cret@db.example:5432/consult"
    config = load_config(_write(tmp_path, GOOD), environ={"CONSULTBOT_STORAGE__URL": url})
    assert config.storage.target == url
    assert config.storage.shown == "postgresql://consultbot:***@db.example:5432/consult"
    only_path = load_config(_write(tmp_path, GOOD), environ={})
    assert only_path.storage.target == str(only_path.storage.path)


def test_a_storage_url_that_is_not_postgresql_is_explained(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(_write(tmp_path, GOOD), environ={"CONSULTBOT_STORAGE__URL": "mysql://x/y"})
    assert any("postgresql://" in problem for problem in raised.value.problems)
