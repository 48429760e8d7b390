-- The portfolio of evidence, assessment decisions, sign-off, marks and transfers (issue 6).

-- One piece of evidence. The file is in the evidence store under `object_key`; the row is
-- written only once the file is complete. Superseded items are kept, never overwritten.
create table evidence (
    evidence_id bigint generated always as identity primary key,
    learner_id bigint not null references learner (learner_id),
    -- The centre the learner was at when it was added (a transfer takes it along).
    centre_id bigint not null references centre (centre_id),
    title text not null,
    evidence_date text not null,
    kind text not null,
    kind_other text,
    witness_name text,
    witness_role text,
    source text not null,
    -- Why simulation was needed, where a unit allows it only in exceptional circumstances.
    simulation_note text,
    -- As uploaded, for display and downloads only; never used as a path.
    file_name text not null,
    media_type text not null,
    size bigint not null,
    sha256 text not null,
    object_key text not null,
    added_by bigint not null references person (person_id),
    added_at text not null,
    superseded_by bigint references evidence (evidence_id),
    supersede_reason text,
    superseded_at text,
    constraint evidence_object_unique unique (object_key)
);
create index evidence_learner on evidence (learner_id, evidence_id);

-- Evidence mapped to a criterion (an AC, or an LO judged as a whole) of a unit.
create table evidence_mapping (
    evidence_mapping_id bigint generated always as identity primary key,
    evidence_id bigint not null references evidence (evidence_id),
    learner_id bigint not null references learner (learner_id),
    unit_key text not null,
    criterion text not null,
    location text not null,
    mapped_by bigint not null references person (person_id),
    mapped_at text not null,
    constraint evidence_mapping_unique unique (evidence_id, unit_key, criterion)
);
create index evidence_mapping_learner on evidence_mapping (learner_id);

-- Evidence mapped to an apprenticeship standard's knowledge, skill or behaviour.
create table evidence_ksb (
    evidence_id bigint not null references evidence (evidence_id),
    learner_id bigint not null references learner (learner_id),
    ksb text not null,
    mapped_by bigint not null references person (person_id),
    mapped_at text not null,
    primary key (evidence_id, ksb)
);

-- Assessors' decisions, never edited: the latest counts.
create table judgement (
    judgement_id bigint generated always as identity primary key,
    learner_id bigint not null references learner (learner_id),
    unit_key text not null,
    criterion text not null,
    outcome text not null check (outcome in ('met', 'not_yet_met')),
    feedback text not null,
    rpl bigint not null default 0,
    assessor_id bigint not null references person (person_id),
    at text not null
);
create index judgement_learner on judgement (learner_id);

-- Unit declarations signed by the assessor and the learner.
create table signature (
    signature_id bigint generated always as identity primary key,
    learner_id bigint not null references learner (learner_id),
    unit_key text not null,
    role text not null check (role in ('assessor', 'learner')),
    person_id bigint not null references person (person_id),
    at text not null,
    comments text not null,
    evidence_hash text not null
);
create index signature_learner on signature (learner_id);

-- Marked results (ISMM): every recording kept, the latest counts.
create table unit_result (
    unit_result_id bigint generated always as identity primary key,
    learner_id bigint not null references learner (learner_id),
    registration_id bigint not null references registration (registration_id),
    unit_key text not null,
    -- JSON: [[component, mark], ...], the moderator's adjustment and considerations.
    marks text not null,
    moderator_adjustment bigint not null default 0,
    considerations text not null,
    -- JSON of credence_domain::portfolio::GradeResult.
    result text not null,
    grade text not null,
    recorded_by bigint not null references person (person_id),
    recorded_at text not null
);
create index unit_result_learner on unit_result (learner_id);

-- Merit and Distinction boundaries, set by the AO per qualification.
create table grade_boundary (
    qan text primary key,
    merit_mark bigint,
    distinction_mark bigint,
    set_by bigint not null references person (person_id),
    set_at text not null
);

-- A learner moving centre: requested by a centre, decided by the AO.
create table transfer (
    transfer_id bigint generated always as identity primary key,
    learner_id bigint not null references learner (learner_id),
    from_registration_id bigint not null references registration (registration_id),
    to_centre_id bigint not null references centre (centre_id),
    reason text not null,
    requested_by bigint not null references person (person_id),
    requested_at text not null,
    status text not null default 'requested' check (status in ('requested', 'approved', 'refused')),
    decided_by bigint references person (person_id),
    decided_at text,
    decision_note text,
    new_registration_id bigint references registration (registration_id)
);
create index transfer_learner on transfer (learner_id);

-- A counter per learner, bumped in the same transaction as every change to their portfolio,
-- so a server may keep what it loaded and know, with one small query, when it is stale.
create table portfolio_stamp (
    learner_id bigint primary key references learner (learner_id),
    version bigint not null
);
