"""An embedded ClickHouse server: ClickHouse's HTTP interface over the chdb engine.

It lets one machine without Docker or a ClickHouse install run the real ClickHouse
engine (the same SQL, table engines and formats) behind the HTTP protocol that
clickhouse-connect, SQLAlchemy's ``clickhousedb://`` dialect and Superset speak. One
process owns one data directory. See docs/embedded-clickhouse.md for its limits.
"""
