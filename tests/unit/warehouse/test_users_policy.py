"""The reader's policy reaches every way a server is configured: the embedded server's
users file, a file-configured server's users.xml and SQL access management alike."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import SecretStr

from boxoffice.bi.bootstrap import DASHBOARDS_DIR
from contracts.settings import Settings
from warehouse.users import create_user_statements, reader_quota, users_xml


def settings_with(tmp_path: Path, queries_per_hour: int) -> Settings:
    return Settings(state_dir=tmp_path, clickhouse_reader_queries_per_hour=queries_per_hour,
                    clickhouse_password=SecretStr("w"),
                    clickhouse_reader_password=SecretStr("r"))


def test_the_quota_setting_reaches_users_xml_and_sql(tmp_path: Path) -> None:
    settings = settings_with(tmp_path, 12_345)
    assert reader_quota(settings)["queries"] == 12_345
    assert "<queries>12345</queries>" in users_xml(settings)
    quota_sql = next(s for s in create_user_statements(settings) if "QUOTA" in s)
    assert "MAX queries = 12345," in quota_sql


def test_the_default_quota_outlasts_an_hour_of_ten_live_screens(tmp_path: Path) -> None:
    """Why the default is what it is: the live dashboard's refresh and chart count."""
    live = DASHBOARDS_DIR / "dashboards" / "Live_box_office.yaml"
    dashboard = yaml.safe_load(live.read_text())
    refresh_seconds = dashboard["metadata"]["refresh_frequency"]
    charts = sum(1 for node in dashboard["position"].values()
                 if isinstance(node, dict) and node.get("type") == "CHART")
    per_screen_per_hour = charts * 3600 / refresh_seconds
    assert reader_quota(Settings(state_dir=tmp_path))["queries"] >= 10 * per_screen_per_hour
