-- Generated traffic runs (`POST /simulator/traffic`): the request as JSON,
-- where the run is, and which node holds it (a lease, so that one node of a
-- deployment runs it). Progress is not stored here: a run's messages carry
-- ids made from the run's id and their number, and are counted.
CREATE TABLE traffic_runs (
    id          TEXT PRIMARY KEY,
    spec        TEXT NOT NULL,
    state       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    ended_at    BIGINT,
    owner       TEXT,
    lease_until BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX traffic_runs_running ON traffic_runs(state) WHERE state = 'running';
