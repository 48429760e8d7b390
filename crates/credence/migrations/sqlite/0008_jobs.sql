-- The job queue and the email outbox (issue 11).
--
-- One queue for every long or outside task (emails now; PDFs, zips, retention later). A job is
-- written in the same transaction as the change that causes it (an outbox): no job is lost, and
-- none exists for a change that rolled back. Workers claim one at a time (`for update skip
-- locked` on PostgreSQL; SQLite's single writer does the same), with a lease, so a worker that
-- dies leaves its job to be claimed again when the lease runs out.
create table job (
    job_id integer primary key autoincrement,
    kind text not null,
    payload text not null,
    -- queued, running, done, dead (retries used up: the dead-letter list).
    status text not null default 'queued' check (status in ('queued', 'running', 'done', 'dead')),
    attempts integer not null default 0,
    max_attempts integer not null default 8,
    -- Not before: retries back off by moving this on.
    run_after text not null,
    locked_by text,
    locked_until text,
    last_error text,
    created_at text not null,
    finished_at text
);
create index job_ready on job (status, run_after, job_id);

-- An email job's send, recorded with the job's completion: a retry after a recorded send
-- does not send again (an email goes at least once, never twice after it is recorded).
create table email_sent (
    job_id integer primary key references job (job_id),
    message_id text not null,
    -- smtp or folder (no SMTP server configured: the message is written to the outbox folder).
    transport text not null,
    sent_at text not null
);

-- A learner may be invited to sign in: the invitation names their learner record.
alter table invitation add column learner_id integer references learner (learner_id);

-- Password reset by email: one-time links, kept as SHA-256 hashes, an hour long.
create table password_reset (
    token_hash text primary key,
    person_id integer not null references person (person_id),
    created_at text not null,
    expires_at text not null,
    used_at text
);
create index password_reset_person on password_reset (person_id, created_at);

-- What each person wants by email as well as on their home page.
create table notification_preference (
    person_id integer primary key references person (person_id),
    email_events integer not null default 1,
    updated_at text not null
);

-- A registration withdrawn, or on a break in learning and resumed: each change with its
-- date and reason (retention counts from a withdrawal). The registration's status says
-- where it stands now: registered, on_break, withdrawn (or transferred).
create table registration_event (
    registration_event_id integer primary key autoincrement,
    registration_id integer not null references registration (registration_id),
    kind text not null check (kind in ('withdrawn', 'break', 'resumed')),
    -- The day it takes effect, YYYY-MM-DD.
    effective_on text not null,
    reason text not null,
    by_person integer references person (person_id),
    at text not null
);
create index registration_event_registration on registration_event (registration_id, at);
