"""The tables of everything but the directory, as SQL, exactly as each migration created them.

Moved byte for byte from the modules that owned them; storage/sqlite/database.py lists the
migrations in the order they ran, and `PRAGMA user_version` records how many have.
"""

MEMBERS = """
CREATE TABLE installation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    secret BLOB NOT NULL
);
CREATE TABLE agency (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    country TEXT NOT NULL
);
CREATE TABLE invite (
    code_hash BLOB PRIMARY KEY,
    agency_id INTEGER NOT NULL REFERENCES agency(id),
    role TEXT NOT NULL,
    uses_left INTEGER NOT NULL,
    expires_day TEXT NOT NULL
);
CREATE TABLE member (
    user_hmac BLOB PRIMARY KEY,
    agency_id INTEGER NOT NULL REFERENCES agency(id),
    role TEXT NOT NULL
);
CREATE TABLE join_attempt (
    user_hmac BLOB NOT NULL,
    hour TEXT NOT NULL,
    failures INTEGER NOT NULL,
    PRIMARY KEY (user_hmac, hour)
);
"""

# Anyone's language choice (/language), under the same keyed hash: never with a referral.
LANGUAGES = """
CREATE TABLE language_choice (
    user_hmac BLOB PRIMARY KEY,
    locale TEXT NOT NULL
);
"""

REFERRALS = """
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
    outcome_day TEXT
);
CREATE INDEX referral_created ON referral(created_hour);
"""

CONVERSATIONS = """
CREATE TABLE conversation_state (
    name TEXT NOT NULL,
    conversation_key TEXT NOT NULL,
    state INTEGER NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (name, conversation_key)
);
CREATE TABLE user_state (
    user_id INTEGER PRIMARY KEY,
    data TEXT NOT NULL,
    updated_at REAL NOT NULL
);
"""

GEOCODE_CACHE = """
CREATE TABLE geocode_cache (
    query TEXT PRIMARY KEY,
    places TEXT NOT NULL,
    created_at REAL NOT NULL
);
"""

FOLLOWUPS = """
CREATE TABLE followup (
    referral_id TEXT PRIMARY KEY REFERENCES referral(id) ON DELETE CASCADE,
    chat_id INTEGER NOT NULL,
    locale TEXT NOT NULL,
    made_at INTEGER NOT NULL,
    sent INTEGER NOT NULL,
    due_at INTEGER NOT NULL
);
CREATE INDEX followup_due ON followup(due_at);
CREATE TABLE undelivered (
    user_hmac BLOB NOT NULL,
    referral_id TEXT NOT NULL REFERENCES referral(id) ON DELETE CASCADE,
    PRIMARY KEY (user_hmac, referral_id)
);
"""

REFERRAL_WEEK = """
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
"""

AUDIT = """
CREATE TABLE audit (
    day TEXT NOT NULL,
    member_hmac BLOB,
    role TEXT NOT NULL,
    command TEXT NOT NULL
);
"""

# Keys apart from the data (bot/keys.py): the file keeps only a check value of the key; the
# old `installation.secret` is moved out to the key file by code at the first start and its
# row deleted. Conversation state and follow-up chats are sealed (members/keys.py, Sealer):
# rows are found by a keyed tag, and the ids inside open only with the key. Conversations in
# progress when this runs are dropped (at most DEFLECT_CONVERSATION_MINUTES of work); pending
# reminders are kept and their chat ids sealed at the first start.
KEYS_APART = """
CREATE TABLE key_check (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    value BLOB NOT NULL
);
DROP TABLE conversation_state;
CREATE TABLE conversation_state (
    name TEXT NOT NULL,
    key_tag BLOB NOT NULL,
    sealed_key BLOB NOT NULL,
    state INTEGER NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (name, key_tag)
);
DROP TABLE user_state;
CREATE TABLE user_state (
    user_tag BLOB PRIMARY KEY,
    sealed BLOB NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE followup_new (
    referral_id TEXT PRIMARY KEY REFERENCES referral(id) ON DELETE CASCADE,
    chat_id INTEGER,
    sealed_chat BLOB,
    locale TEXT NOT NULL,
    made_at INTEGER NOT NULL,
    sent INTEGER NOT NULL,
    due_at INTEGER NOT NULL,
    CHECK ((chat_id IS NULL) != (sealed_chat IS NULL))
);
INSERT INTO followup_new (referral_id, chat_id, sealed_chat, locale, made_at, sent, due_at)
SELECT referral_id, chat_id, NULL, locale, made_at, sent, due_at FROM followup;
DROP TABLE followup;
ALTER TABLE followup_new RENAME TO followup;
CREATE INDEX followup_due ON followup(due_at);
ALTER TABLE language_choice ADD COLUMN day TEXT NOT NULL DEFAULT '';
UPDATE language_choice SET day = date('now');
DROP TABLE geocode_cache;
CREATE TABLE geocode_cache (
    query_tag BLOB PRIMARY KEY,
    sealed_places BLOB NOT NULL,
    day TEXT NOT NULL
);
"""

# Wrong codes tried, per kind of code ("arrived": /arrived's referral codes), per member
# (keyed hash) and per hour (UTC, "YYYY-MM-DDTHH"): the limit per member reads one row, the
# ceiling for everyone sums the hour's rows (the key's order makes both an index range).
# Retention deletes earlier days' rows.
GUESS_ATTEMPTS = """
CREATE TABLE guess_attempt (
    kind TEXT NOT NULL,
    member_hmac BLOB NOT NULL,
    hour TEXT NOT NULL,
    failures INTEGER NOT NULL,
    PRIMARY KEY (kind, hour, member_hmac)
);
"""

# The warm hand-off. A referral row gains only how its hand-off went (none,
# expected, declined, moved, no_answer) and how often it moved to another service. Service
# staff are members (role "service") bound to the services they work at, each binding with
# the member's chat sealed to it (AES-GCM, bound to member and service), so that a notice can
# reach them. An invite for staff names its services. A member remembers (as its keyed hash)
# the invite it joined with, so that `deflect members remove --invite` finds them. A hand-off
# in progress keeps, sealed, the chats and messages it edits and the next services to offer;
# it is deleted when it ends.
HANDOFF = """
ALTER TABLE referral ADD COLUMN handoff TEXT NOT NULL DEFAULT 'none';
ALTER TABLE referral ADD COLUMN moves INTEGER NOT NULL DEFAULT 0;
ALTER TABLE invite ADD COLUMN services TEXT NOT NULL DEFAULT '';
ALTER TABLE member ADD COLUMN invite_hash BLOB;
CREATE TABLE staff (
    service_id TEXT NOT NULL,
    member_hmac BLOB NOT NULL REFERENCES member(user_hmac) ON DELETE CASCADE,
    sealed_chat BLOB NOT NULL,
    PRIMARY KEY (service_id, member_hmac)
);
CREATE INDEX staff_member ON staff(member_hmac);
CREATE TABLE handoff (
    referral_id TEXT PRIMARY KEY REFERENCES referral(id) ON DELETE CASCADE,
    sealed BLOB NOT NULL,
    deadline INTEGER NOT NULL
);
CREATE INDEX handoff_deadline ON handoff(deadline);
"""

# What only the key can read or match, and the key's check value: a database with a row in
# any of them needs its key to start, and `deflect forget-key` empties them. The referral
# log, the figures, agencies, the audit trail and the directory are not keyed.
KEYED_TABLES = ("member", "invite", "language_choice", "join_attempt", "guess_attempt",
                "undelivered", "followup", "conversation_state", "user_state", "geocode_cache",
                "installation", "key_check", "staff", "handoff")
