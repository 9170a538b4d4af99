/**
 * The monitor's tables, created once by the first MonitorStore to need them; under an advisory
 * lock, so instances starting together do not race to create them.
 */
export const schema = `
BEGIN;
SELECT pg_advisory_xact_lock(7265432);
CREATE TABLE IF NOT EXISTS shipshape_monitor_results (
  id bigserial PRIMARY KEY,
  check_name text NOT NULL,
  vantage text NOT NULL,
  source text NOT NULL,
  at timestamptz NOT NULL,
  ok boolean NOT NULL,
  ms integer NOT NULL,
  error text,
  cert_expires_at timestamptz
);
CREATE INDEX IF NOT EXISTS shipshape_monitor_results_check ON shipshape_monitor_results (check_name, at);
CREATE INDEX IF NOT EXISTS shipshape_monitor_results_at ON shipshape_monitor_results (at);
CREATE TABLE IF NOT EXISTS shipshape_monitor_pings (
  id bigserial PRIMARY KEY,
  heartbeat text NOT NULL,
  kind text NOT NULL,
  exit_code integer,
  at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS shipshape_monitor_silences (
  id text PRIMARY KEY,
  match jsonb NOT NULL,
  starts_at timestamptz NOT NULL,
  ends_at timestamptz NOT NULL,
  comment text NOT NULL DEFAULT '',
  until_resolved boolean NOT NULL DEFAULT false
);
CREATE TABLE IF NOT EXISTS shipshape_monitor_checks (
  name text PRIMARY KEY,
  definition jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS shipshape_monitor_requests (
  source text NOT NULL,
  at timestamptz NOT NULL,
  total bigint NOT NULL,
  errors bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS shipshape_monitor_requests_at ON shipshape_monitor_requests (at);
CREATE TABLE IF NOT EXISTS shipshape_monitor_audits (at timestamptz NOT NULL, findings integer NOT NULL);
CREATE TABLE IF NOT EXISTS shipshape_monitor_advisories (
  key text PRIMARY KEY,
  first_seen_at timestamptz NOT NULL,
  baseline boolean NOT NULL
);
CREATE TABLE IF NOT EXISTS shipshape_monitor_notifications (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL,
  group_key text NOT NULL,
  status text NOT NULL,
  title text NOT NULL,
  channel text NOT NULL,
  ok boolean NOT NULL,
  error text
);
CREATE TABLE IF NOT EXISTS shipshape_monitor_sent (
  group_key text PRIMARY KEY,
  hash text NOT NULL,
  sent_at timestamptz NOT NULL
);
COMMIT;`
