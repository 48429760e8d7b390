-- Certification (issue 13): certificates, their numbers, and the AOs' signing keys.
--
-- A claim is for a qualification (all its units) or, to bank it, for one unit; a unit claim
-- becomes a unit certificate (ISMM: unit acknowledgement).
alter table claim add column kind text not null default 'qualification';

-- The next certificate sequence per awarding organisation and year. Taken inside the
-- transaction that issues the certificate (an upsert that locks the row), so two servers
-- issuing at once never take the same number, and a number is never reused.
create table certificate_sequence (
    ao_code text not null,
    year integer not null,
    last_sequence integer not null,
    constraint certificate_sequence_pk primary key (ao_code, year)
);

-- The register of certificates, kept permanently (verification answers from it). A row is
-- what is printed: the learner's registered name, the title and reference, the grade and
-- the units, fixed when issued. A replacement is a new row that names the one it replaces.
create table certificate (
    certificate_id integer primary key autoincrement,
    number text not null unique,
    ao_code text not null,
    year integer not null,
    sequence integer not null,
    -- 'qualification' or 'unit' (a unit certificate, keyed by the unit reference).
    kind text not null check (kind in ('qualification', 'unit')),
    claim_id integer not null references claim (claim_id),
    registration_id integer not null references registration (registration_id),
    learner_id integer not null references learner (learner_id),
    centre_id integer not null references centre (centre_id),
    learner_name text not null,
    -- The QAN for a qualification certificate; null for a unit certificate.
    qan text,
    -- The unit's reference for a unit certificate (Ofqual's, or the AO's where none).
    unit_reference text,
    title text not null,
    level integer,
    grade text,
    grade_rule text,
    -- JSON: [{"reference", "title", "credits", "grade"}] as printed.
    units text not null,
    total_credits integer,
    awarded_on text not null,
    issued_at text not null,
    issued_by integer references person (person_id),
    status text not null check (status in ('valid', 'replaced', 'revoked')),
    replaces text references certificate (number),
    replacement_reason text,
    replaced_by text,
    revoked_at text,
    revocation_reason text,
    revocation_note text,
    revoked_by integer references person (person_id),
    constraint certificate_sequence_unique unique (ao_code, year, sequence)
);

-- One original certificate per claim; replacements name the original instead.
create unique index certificate_claim on certificate (claim_id) where replaces is null;
create index certificate_learner on certificate (learner_id);
create index certificate_centre on certificate (centre_id);
create index certificate_ao on certificate (ao_code, status);

-- Each AO's keys for signing Open Badges credentials. The private key is sealed (AES-256-GCM)
-- with the key-encryption key every server reads from a file or the environment; the
-- database, and so any backup of it, never holds it in clear. Retired keys stay published.
create table signing_key (
    kid text primary key,
    ao_code text not null,
    public_jwk text not null,
    sealed_private_key text not null,
    created_at text not null,
    retired_at text
);
create index signing_key_ao on signing_key (ao_code);
