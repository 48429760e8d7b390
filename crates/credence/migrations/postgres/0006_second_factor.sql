-- A second factor (TOTP, RFC 6238) for those who publish, certify and decide (issue 10).

create table second_factor (
    person_id bigint primary key references person (person_id),
    -- Base32, as authenticator apps take it.
    secret text not null,
    -- Null until the person has shown a code from their app.
    confirmed_at text,
    -- The last time step accepted: a code is accepted once.
    last_step bigint not null default 0,
    created_at text not null
);

-- Single-use recovery codes, kept as SHA-256 hashes.
create table recovery_code (
    recovery_code_id bigint generated always as identity primary key,
    person_id bigint not null references person (person_id),
    code_hash text not null,
    used_at text
);
create index recovery_code_person on recovery_code (person_id);

-- A sign-in whose password was right, waiting for its second factor (minutes, not hours).
create table sign_in_challenge (
    challenge_hash text primary key,
    person_id bigint not null references person (person_id),
    expires_at text not null
);

-- Whether the session's sign-in passed a second factor.
alter table session add column second_factor bigint not null default 0;
