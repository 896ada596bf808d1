"""check-config explains every problem in one line and never prints the token."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.config import ConfigError, load_config

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


def test_example_config_is_valid() -> None:
    example = Path(__file__).resolve().parent.parent / "config.example.toml"
    config = load_config(example, environ={})
    assert config.telegram.mode == "polling"
    assert config.programme.default_language == "es"


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
        (
            "[telegram]\ntoken = '1:x'\nmode = 'webhook'\n",
            "telegram: webhook mode needs webhook_url",
        ),
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
    text = (
        '[telegram]\ntoken = "1:x"\nmode = "webhook"\nwebhook_url = "https://x.org/hook"\n'
        "[delivery]\nrate_per_second = 200\n"
    )
    assert main(["check-config", "--config", str(_write(tmp_path, text))]) == 0
    err = capsys.readouterr().err
    assert "above Telegram's ~30/s" in err
    assert "webhook_secret_token is not set" in err
    assert "nobody can grant roles" in err


def test_missing_file_is_explained(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "absent.toml", environ={})
