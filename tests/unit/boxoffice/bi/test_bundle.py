"""The bundle rewrite and the Rison filter: no Superset needed."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import yaml

from boxoffice.bi.dashboards import BUNDLE_ROOT, PASSWORD_MASK, bundle_files, zip_bundle
from boxoffice.bi.databases import (
    CLICKHOUSE_DATABASE_NAME,
    CLICKHOUSE_DATABASE_UUID,
    clickhouse_uri,
)
from boxoffice.bi.rison import equals_filter
from contracts.settings import load_settings

PROBE_BUNDLE = Path(__file__).parents[3] / "integration" / "superset" / "probe_bundle"


def test_bundle_database_becomes_this_installations_read_only_connection(
        tmp_path: Path) -> None:
    settings = load_settings(state_dir=tmp_path, clickhouse_http_port=18123)

    files = {name: yaml.safe_load(text)
             for name, text in bundle_files(PROBE_BUNDLE, settings).items()}

    database = files["databases/ClickHouse_boxoffice.yaml"]
    assert database["database_name"] == CLICKHOUSE_DATABASE_NAME
    assert database["uuid"] == CLICKHOUSE_DATABASE_UUID
    assert database["allow_dml"] is False
    assert database["sqlalchemy_uri"] == (
        f"clickhousedb://{settings.clickhouse_reader_user}:{PASSWORD_MASK}@127.0.0.1:18123/"
        f"{settings.clickhouse_database}")
    dataset = files["datasets/ClickHouse_boxoffice/bundle_probe.yaml"]
    assert dataset["database_uuid"] == CLICKHOUSE_DATABASE_UUID
    assert files["metadata.yaml"]["type"] == "assets"
    assert settings.secret("clickhouse_reader_password") not in str(files)


def test_superset_in_a_container_reaches_clickhouse_inside_its_network(
        tmp_path: Path) -> None:
    settings = load_settings(state_dir=tmp_path, clickhouse_http_port=18123,
                             superset_clickhouse_host="clickhouse",
                             superset_clickhouse_port=8123)
    assert clickhouse_uri(settings, password="x").endswith("@clickhouse:8123/boxoffice")
    assert settings.clickhouse_url == "http://127.0.0.1:18123"  # this machine's view


def test_zip_puts_every_file_under_one_root(tmp_path: Path) -> None:
    archive = zipfile.ZipFile(io.BytesIO(zip_bundle({"metadata.yaml": "version: 1.0.0\n"})))
    assert archive.namelist() == [f"{BUNDLE_ROOT}/metadata.yaml"]


def test_rison_filter_escapes_quotes_and_bangs() -> None:
    assert equals_filter("slug", "it's!") == "(filters:!((col:slug,opr:eq,value:'it!'s!!')))"
