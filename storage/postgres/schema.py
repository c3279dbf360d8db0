"""The PostgreSQL schema: its own numbered history (`schema_version` records how many have
run; a migration never changes once released, a change is a new one).

The same tables and the same values as the SQLite file (storage/sqlite/schema.py), so that
the stores read and write the same shapes: days and hours as ISO text, keyed hashes and
sealed values as bytea, ids the bot must reach again only sealed. The directory is not here:
each worker answers searches from a local SQLite copy (storage/postgres/__init__.py).
"""

from __future__ import annotations

V1 = """
CREATE TABLE installation (id INTEGER PRIMARY KEY CHECK (id = 1), secret BYTEA NOT NULL);
CREATE TABLE key_check (id INTEGER PRIMARY KEY CHECK (id = 1), value BYTEA NOT NULL);
CREATE TABLE agency (
    id SERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    country TEXT NOT NULL
);
CREATE TABLE invite (
    code_hash BYTEA PRIMARY KEY,
    agency_id INTEGER NOT NULL REFERENCES agency(id),
    role TEXT NOT NULL,
    uses_left INTEGER NOT NULL,
    expires_day TEXT NOT NULL,
    services TEXT NOT NULL DEFAULT ''
);
CREATE TABLE member (
    user_hmac BYTEA PRIMARY KEY,
    agency_id INTEGER NOT NULL REFERENCES agency(id),
    role TEXT NOT NULL,
    invite_hash BYTEA
);
CREATE TABLE staff (
    seq BIGSERIAL,
    service_id TEXT NOT NULL,
    member_hmac BYTEA NOT NULL REFERENCES member(user_hmac) ON DELETE CASCADE,
    sealed_chat BYTEA NOT NULL,
    PRIMARY KEY (service_id, member_hmac)
);
CREATE INDEX staff_member ON staff(member_hmac);
CREATE TABLE join_attempt (
    user_hmac BYTEA NOT NULL,
    hour TEXT NOT NULL,
    failures INTEGER NOT NULL,
    PRIMARY KEY (user_hmac, hour)
);
CREATE TABLE guess_attempt (
    kind TEXT NOT NULL,
    member_hmac BYTEA NOT NULL,
    hour TEXT NOT NULL,
    failures INTEGER NOT NULL,
    PRIMARY KEY (kind, hour, member_hmac)
);
CREATE TABLE language_choice (
    user_hmac BYTEA PRIMARY KEY,
    locale TEXT NOT NULL,
    day TEXT NOT NULL
);
CREATE TABLE referral (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    created_hour TEXT NOT NULL,
    pathway TEXT NOT NULL,
    referrer_role TEXT NOT NULL,
    agency_id INTEGER REFERENCES agency(id),
    needs TEXT NOT NULL,
    service_id TEXT,
    area_cell TEXT,
    distance_band TEXT,
    consent INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    outcome_day TEXT,
    handoff TEXT NOT NULL DEFAULT 'none',
    moves INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX referral_created ON referral(created_hour);
CREATE TABLE referral_week (
    week TEXT NOT NULL,
    agency_id INTEGER,
    pathway TEXT NOT NULL,
    needs TEXT NOT NULL,
    service_id TEXT,
    area_cell TEXT,
    consent INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    engaged_days INTEGER,
    weight INTEGER NOT NULL
);
CREATE INDEX referral_week_week ON referral_week(week);
CREATE TABLE audit (
    seq BIGSERIAL PRIMARY KEY,
    day TEXT NOT NULL,
    member_hmac BYTEA,
    role TEXT NOT NULL,
    command TEXT NOT NULL
);
CREATE TABLE followup (
    referral_id TEXT PRIMARY KEY REFERENCES referral(id) ON DELETE CASCADE,
    sealed_chat BYTEA NOT NULL,
    locale TEXT NOT NULL,
    made_at BIGINT NOT NULL,
    sent INTEGER NOT NULL,
    due_at BIGINT NOT NULL
);
CREATE INDEX followup_due ON followup(due_at);
CREATE TABLE undelivered (
    user_hmac BYTEA NOT NULL,
    referral_id TEXT NOT NULL REFERENCES referral(id) ON DELETE CASCADE,
    PRIMARY KEY (user_hmac, referral_id)
);
CREATE TABLE handoff (
    referral_id TEXT PRIMARY KEY REFERENCES referral(id) ON DELETE CASCADE,
    sealed BYTEA NOT NULL,
    deadline BIGINT NOT NULL
);
CREATE INDEX handoff_deadline ON handoff(deadline);
CREATE TABLE conversation_state (
    name TEXT NOT NULL,
    key_tag BYTEA NOT NULL,
    sealed_key BYTEA NOT NULL,
    state INTEGER NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (name, key_tag)
);
CREATE TABLE user_state (
    user_tag BYTEA PRIMARY KEY,
    sealed BYTEA NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL
);
CREATE TABLE geocode_cache (
    query_tag BYTEA PRIMARY KEY,
    sealed_places BYTEA NOT NULL,
    day TEXT NOT NULL
);
CREATE TABLE service_arrival (service_id TEXT PRIMARY KEY, day TEXT NOT NULL);
"""

# The durable inbox of webhook updates (bot/workers.py): written by the receiver before it
# answers Telegram, claimed by workers one chat at a time, in update_id order. An update is
# sealed (it holds ids, names and texts), its chat known only by a keyed tag; a done update
# leaves only its number in `inbox_done` (a day, so that Telegram's redelivery is absorbed).
V2 = """
CREATE TABLE inbox (
    update_id BIGINT PRIMARY KEY,
    chat_tag BIGINT NOT NULL,
    sealed BYTEA NOT NULL,
    received_at DOUBLE PRECISION NOT NULL,
    claimed_by TEXT,
    claimed_until DOUBLE PRECISION
);
CREATE INDEX inbox_chat ON inbox(chat_tag, update_id);
CREATE TABLE inbox_done (update_id BIGINT PRIMARY KEY, done_at DOUBLE PRECISION NOT NULL);
"""

# The live directory's statuses and reports, shared by the workers (directory/live.py keeps
# each worker's copy; storage/postgres/live.py). Facts about services, never about people.
V3 = """
CREATE TABLE service_status (
    service_id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    beds INTEGER,
    until BIGINT NOT NULL,
    updated BIGINT NOT NULL
);
CREATE TABLE service_report (
    service_id TEXT NOT NULL,
    day TEXT NOT NULL,
    reports INTEGER NOT NULL,
    PRIMARY KEY (service_id, day)
);
"""

# The directory, imported once: an image of its SQLite file that every worker loads
# (storage/postgres/directory_copy.py); only the newest is kept.
V4 = """
CREATE TABLE directory_copy (
    version BIGSERIAL PRIMARY KEY,
    made_at DOUBLE PRECISION NOT NULL,
    image BYTEA NOT NULL
);
"""

# How often an update's handling was tried (one that keeps failing is given up, not retried
# forever in front of its chat's later updates).
V5 = """
ALTER TABLE inbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
"""

MIGRATIONS: tuple[str, ...] = (V1, V2, V3, V4, V5)
