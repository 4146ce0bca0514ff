"""Importing the dashboards kept as code (a Superset export bundle) into Superset.

The bundle is what Superset's export produces, unzipped and kept in git
(``superset/dashboards/``: metadata.yaml, databases/, datasets/, charts/, dashboards/).
It goes in through /api/v1/assets/import/, which overwrites every object it names, so
git wins over edits made in the UI. The bundle's one database is always the warehouse
connection that `databases.py` manages: before the upload its file is rewritten to this
installation's URL, uuid and read-only flags (the password travels separately, as
Superset's import expects), and dataset references follow the uuid.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import yaml

from boxoffice.bi.client import SupersetClient
from boxoffice.bi.databases import (
    CLICKHOUSE_DATABASE_NAME,
    CLICKHOUSE_DATABASE_UUID,
    clickhouse_uri,
)
from boxoffice.bi.errors import SupersetError
from contracts.settings import Settings

BUNDLE_ROOT = "boxoffice_dashboards"
"""Superset expects every file of an import zip under one top-level folder."""
PASSWORD_MASK = "XXXXXXXXXX"
"""How Superset writes a password it leaves out of an export."""


def is_bundle(directory: Path) -> bool:
    return (directory / "metadata.yaml").is_file()


def bundle_files(directory: Path, settings: Settings) -> dict[str, str]:
    """The bundle's YAML files by relative path, rewritten for this installation."""
    files = {
        path.relative_to(directory).as_posix(): yaml.safe_load(path.read_text())
        for path in sorted(directory.rglob("*.yaml"))
    }
    databases = [name for name in files if name.startswith("databases/")]
    if len(databases) > 1:
        raise SupersetError(
            f"the dashboard bundle {directory} has {len(databases)} database files; it may "
            f"only use the warehouse connection {CLICKHOUSE_DATABASE_NAME!r}"
        )
    old_uuids = {str(files[name].get("uuid")) for name in databases}
    for name in databases:
        files[name].update(_warehouse_database(settings))
    for name, content in files.items():
        if name.startswith("datasets/") and str(content.get("database_uuid")) in old_uuids:
            content["database_uuid"] = CLICKHOUSE_DATABASE_UUID
    files["metadata.yaml"] = {**files["metadata.yaml"], "type": "assets"}
    return {name: yaml.safe_dump(content, sort_keys=False) for name, content in files.items()}


def _warehouse_database(settings: Settings) -> dict[str, Any]:
    masked = clickhouse_uri(settings, password=PASSWORD_MASK)
    return {"database_name": CLICKHOUSE_DATABASE_NAME, "sqlalchemy_uri": masked,
            "uuid": CLICKHOUSE_DATABASE_UUID, "expose_in_sqllab": True, "allow_dml": False,
            "allow_ctas": False, "allow_cvas": False, "allow_run_async": False,
            "allow_csv_upload": False}


def zip_bundle(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(f"{BUNDLE_ROOT}/{name}", text)
    return buffer.getvalue()


def import_bundle(client: SupersetClient, directory: Path, settings: Settings) -> None:
    """Import (overwriting) the dashboards, charts, datasets and database of a bundle."""
    if not is_bundle(directory):
        raise SupersetError(f"{directory} is not a dashboard bundle: it has no metadata.yaml")
    files = bundle_files(directory, settings)
    password = settings.secret("clickhouse_reader_password")
    passwords = {name: password for name in files if name.startswith("databases/")}
    client.request(
        "POST", "/api/v1/assets/import/",
        files={"bundle": ("dashboards.zip", zip_bundle(files), "application/zip")},
        data={"passwords": json.dumps(passwords)},
    )
