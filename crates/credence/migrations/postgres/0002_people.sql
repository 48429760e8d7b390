-- People, centres, roles, sign-in, learners, registrations and the audit log (issue 5).

-- One account per person, whatever roles they hold.
create table person (
    person_id bigint generated always as identity primary key,
    email text not null,
    display_name text not null,
    -- argon2id PHC string; null until the person accepts an invitation and sets one.
    password_hash text,
    disabled bigint not null default 0,
    created_at text not null,
    updated_at text not null,
    constraint person_email_unique unique (email)
);

create table centre (
    centre_id bigint generated always as identity primary key,
    name text not null,
    created_at text not null,
    updated_at text not null,
    constraint centre_name_unique unique (name)
);

-- A centre works with an AO; direct claim status is per AO.
create table centre_ao (
    centre_id bigint not null references centre (centre_id),
    ao_code text not null references awarding_organisation (ao_code),
    direct_claim_status bigint not null default 0,
    created_at text not null,
    updated_at text not null,
    primary key (centre_id, ao_code)
);

-- A centre is approved per qualification.
create table centre_approval (
    centre_id bigint not null references centre (centre_id),
    qan text not null,
    ao_code text not null,
    approved_by bigint references person (person_id),
    created_at text not null,
    primary key (centre_id, qan)
);

create table learner (
    learner_id bigint generated always as identity primary key,
    -- Unique Learner Number where the learner has one; one record across centres.
    uln text,
    given_name text not null,
    family_name text not null,
    date_of_birth text not null,
    email text,
    person_id bigint references person (person_id),
    created_at text not null,
    updated_at text not null,
    constraint learner_uln_unique unique (uln)
);

create table registration (
    registration_id bigint generated always as identity primary key,
    learner_id bigint not null references learner (learner_id),
    centre_id bigint not null references centre (centre_id),
    qan text not null,
    -- The catalogue version published when the learner registered: they stay on it.
    catalogue_version_id bigint not null references catalogue_version (catalogue_version_id),
    status text not null default 'registered',
    registered_at text not null,
    created_at text not null,
    updated_at text not null,
    constraint registration_unique unique (learner_id, centre_id, qan)
);

-- What a person may do where: role plus its scope (an AO, a centre, or a learner record).
create table role_grant (
    role_grant_id bigint generated always as identity primary key,
    person_id bigint not null references person (person_id),
    role text not null check (role in ('ao_staff', 'eqa', 'centre_admin', 'assessor', 'iqa', 'learner')),
    ao_code text,
    centre_id bigint references centre (centre_id),
    learner_id bigint references learner (learner_id),
    created_at text not null,
    constraint role_grant_unique unique (person_id, role, ao_code, centre_id, learner_id)
);

-- EQAs are appointed by an AO to centres.
create table eqa_appointment (
    person_id bigint not null references person (person_id),
    centre_id bigint not null references centre (centre_id),
    ao_code text not null,
    created_at text not null,
    primary key (person_id, centre_id, ao_code)
);

-- Sessions: the cookie holds a random token; only its SHA-256 is stored.
create table session (
    session_hash text primary key,
    person_id bigint not null references person (person_id),
    csrf_token text not null,
    active_grant_id bigint references role_grant (role_grant_id),
    created_at text not null,
    expires_at text not null
);

create table api_token (
    api_token_id bigint generated always as identity primary key,
    person_id bigint not null references person (person_id),
    name text not null,
    token_hash text not null,
    created_at text not null,
    revoked_at text,
    constraint api_token_hash_unique unique (token_hash)
);

create table invitation (
    invitation_id bigint generated always as identity primary key,
    token_hash text not null,
    email text not null,
    display_name text not null,
    role text not null,
    ao_code text,
    centre_id bigint references centre (centre_id),
    invited_by bigint references person (person_id),
    created_at text not null,
    expires_at text not null,
    accepted_at text,
    constraint invitation_token_unique unique (token_hash)
);

-- Failed sign-ins, for rate limiting per account and per address across servers.
create table sign_in_failure (
    sign_in_failure_id bigint generated always as identity primary key,
    email text not null,
    address text not null,
    at text not null
);
create index sign_in_failure_email on sign_in_failure (email, at);
create index sign_in_failure_address on sign_in_failure (address, at);

-- Append-only: every change, chained by hash (see credence_domain::people::audit).
create table audit_log (
    seq bigint primary key,
    at text not null,
    actor text,
    address text,
    action text not null,
    subject text not null,
    centre_id bigint,
    detail text not null,
    prev_hash text not null,
    hash text not null
);
create index audit_log_centre on audit_log (centre_id, seq);
