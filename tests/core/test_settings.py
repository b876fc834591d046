"""Settings are read from the environment once, at startup."""

from __future__ import annotations

from pathlib import Path

from core.settings import load_settings


def test_report_settings_come_from_the_environment(tmp_path: Path) -> None:
    base = {"FSD_DATABASE_URL": "postgresql+asyncpg://x/y", "FSD_JWT_SECRET": "s" * 40}
    defaults = load_settings(env=base)
    assert defaults.public_url == "http://127.0.0.1:8000"
    assert defaults.report_font is None
    font = tmp_path / "font.ttf"
    chosen = load_settings(
        env={**base, "FSD_PUBLIC_URL": " https://fs.example.cn/ ", "FSD_REPORT_FONT": str(font)}
    )
    assert chosen.public_url == "https://fs.example.cn/"
    assert chosen.report_font == font
