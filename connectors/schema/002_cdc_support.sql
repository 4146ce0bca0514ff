-- Tables the change capture needs beside the business tables, and the replica identities.

-- One row; Debezium's heartbeat.action.query bumps `ts`, and that UPDATE travels the
-- whole pipeline so freshness can be measured end to end.
create table if not exists {schema}.heartbeat (
    id integer primary key,
    ts timestamptz not null default now()
);
insert into {schema}.heartbeat (id, ts) values (1, now()) on conflict (id) do nothing;

-- Debezium's signalling table: an INSERT here asks the connector for an incremental
-- snapshot; the connector writes its snapshot-window watermarks here too.
create table if not exists {schema}.debezium_signal (
    id   varchar(42) primary key,
    type varchar(32) not null,
    data varchar(2048)
);

-- FULL: the processors join tickets to purchases and performances; an update or delete
-- must carry the old join keys and old price so the retraction can be computed from the
-- event alone, without asking the database.
alter table {schema}.tickets      replica identity full;
alter table {schema}.purchases    replica identity full;
alter table {schema}.performances replica identity full;

-- DEFAULT (primary key): dimensions are upserted by id and names join at query time, so
-- the old values are not needed; for people it also keeps old names out of the WAL.
alter table {schema}.bands           replica identity default;
alter table {schema}.venues          replica identity default;
alter table {schema}.people          replica identity default;
alter table {schema}.heartbeat       replica identity default;
alter table {schema}.debezium_signal replica identity default;
