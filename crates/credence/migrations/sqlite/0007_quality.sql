-- Quality assurance (issue 12): the lead IQA, sampling strategies and plans, IQA decisions and
-- referrals, standardisation, EQA visits and reports, direct claim status per qualification,
-- claims and the gate that releases them, and appeals.

-- An IQA the centre administrator made lead IQA: they set the centre's sampling strategy.
create table lead_iqa (
    person_id integer not null references person (person_id),
    centre_id integer not null references centre (centre_id),
    set_by integer references person (person_id),
    created_at text not null,
    primary key (person_id, centre_id)
);

-- The centre's sampling strategy for a qualification, as the JSON of
-- credence_domain::qa::SamplingStrategy.
create table sampling_strategy (
    centre_id integer not null references centre (centre_id),
    qan text not null,
    strategy text not null,
    set_by integer not null references person (person_id),
    set_at text not null,
    primary key (centre_id, qan)
);

-- One sample on a centre's plan: a learner's unit judged by an assessor, at a stage.
create table qa_sample (
    sample_id integer primary key autoincrement,
    centre_id integer not null references centre (centre_id),
    registration_id integer not null references registration (registration_id),
    learner_id integer not null references learner (learner_id),
    unit_key text not null,
    assessor_id integer not null references person (person_id),
    stage text not null check (stage in ('interim', 'summative')),
    state text not null check (state in ('planned', 'open', 'agreed', 'referred', 'swapped')),
    origin text not null check (origin in ('plan', 'manual')),
    -- JSON array of why it was chosen, in words.
    reasons text not null,
    due_on text not null,
    -- The IQA who opened it, and the unit as it stood then (JSON), with its hash.
    iqa_id integer references person (person_id),
    snapshot text,
    snapshot_hash text,
    opened_at text,
    decided_at text,
    -- A sample swapped out by hand names the sample that replaced it and why.
    replaced_by integer references qa_sample (sample_id),
    replace_reason text,
    created_by integer references person (person_id),
    created_at text not null
);
create index qa_sample_centre on qa_sample (centre_id, state, due_on, sample_id);
create index qa_sample_registration on qa_sample (registration_id, unit_key);

-- An IQA's decision on a sample: agree or refer back, for the unit or one criterion. A
-- referral is an action for the assessor, open until the IQA closes it.
create table qa_decision (
    decision_id integer primary key autoincrement,
    sample_id integer not null references qa_sample (sample_id),
    criterion text,
    verdict text not null check (verdict in ('agree', 'refer')),
    comments text not null,
    action text not null,
    due_on text,
    iqa_id integer not null references person (person_id),
    at text not null,
    closed_at text,
    closed_by integer references person (person_id),
    closing_note text
);
create index qa_decision_sample on qa_decision (sample_id);

-- Standardisation meetings and observations of assessors.
create table standardisation (
    standardisation_id integer primary key autoincrement,
    centre_id integer not null references centre (centre_id),
    kind text not null check (kind in ('meeting', 'observation')),
    held_on text not null,
    -- The assessor observed (observations only).
    assessor_id integer references person (person_id),
    -- JSON arrays: person ids who took part, unit keys covered.
    attendees text not null,
    units text not null,
    outcome text not null check (outcome in ('satisfactory', 'concerns')),
    notes text not null,
    actions text not null,
    recorded_by integer not null references person (person_id),
    recorded_at text not null
);
create index standardisation_centre on standardisation (centre_id, held_on);

-- EQA visits: scheduled, then reported.
create table eqa_visit (
    visit_id integer primary key autoincrement,
    centre_id integer not null references centre (centre_id),
    ao_code text not null,
    eqa_id integer not null references person (person_id),
    planned_on text not null,
    visited_on text,
    outcome text check (outcome in ('satisfactory', 'unsatisfactory')),
    risk text check (risk in ('low', 'medium', 'high')),
    -- JSON array of {registration, learner, unit} sampled.
    sampled text not null default '[]',
    findings text not null default '',
    reported_at text,
    created_by integer references person (person_id),
    created_at text not null
);
create index eqa_visit_centre on eqa_visit (centre_id, ao_code);

create table eqa_action (
    action_id integer primary key autoincrement,
    visit_id integer not null references eqa_visit (visit_id),
    text text not null,
    due_on text not null,
    response text,
    responded_by integer references person (person_id),
    responded_at text,
    closed_by integer references person (person_id),
    closed_at text
);
create index eqa_action_visit on eqa_action (visit_id);

-- Direct claim status, per centre and qualification (it was per centre and AO: every grant
-- carries over to each qualification the centre is approved for with that AO).
create table direct_claim (
    centre_id integer not null references centre (centre_id),
    qan text not null,
    ao_code text not null,
    granted_by integer references person (person_id),
    reason text not null,
    granted_at text not null,
    primary key (centre_id, qan)
);
insert into direct_claim (centre_id, qan, ao_code, granted_by, reason, granted_at)
select a.centre_id, a.qan, a.ao_code, null,
       'carried over from the centre''s direct claim status for ' || a.ao_code, ca.updated_at
from centre_approval a
join centre_ao ca on ca.centre_id = a.centre_id and ca.ao_code = a.ao_code
where ca.direct_claim_status = 1;

-- A claim for a learner's qualification (or a unit), with the units it is made with.
create table claim (
    claim_id integer primary key autoincrement,
    registration_id integer not null references registration (registration_id),
    learner_id integer not null references learner (learner_id),
    centre_id integer not null references centre (centre_id),
    ao_code text not null,
    qan text not null,
    -- JSON array of unit keys.
    units text not null,
    status text not null check (status in ('held', 'released', 'withdrawn')),
    claimed_by integer not null references person (person_id),
    claimed_at text not null,
    -- Who released it: an EQA, or null when the gate opened by itself.
    released_by integer references person (person_id),
    released_at text,
    release_note text
);
create index claim_centre on claim (centre_id, status);
create index claim_registration on claim (registration_id);

-- An appeal against an assessment decision: reviewed at the centre by someone other than the
-- assessor, then, if the learner asks, by the AO.
create table appeal (
    appeal_id integer primary key autoincrement,
    learner_id integer not null references learner (learner_id),
    registration_id integer not null references registration (registration_id),
    centre_id integer not null references centre (centre_id),
    unit_key text not null,
    criterion text,
    grounds text not null,
    stage text not null check (stage in ('centre', 'ao', 'closed')),
    opened_by integer not null references person (person_id),
    opened_at text not null,
    centre_reviewer integer references person (person_id),
    centre_outcome text check (centre_outcome in ('upheld', 'not_upheld')),
    centre_reason text,
    centre_decided_at text,
    escalated_at text,
    ao_reviewer integer references person (person_id),
    ao_outcome text check (ao_outcome in ('upheld', 'not_upheld')),
    ao_reason text,
    ao_decided_at text
);
create index appeal_learner on appeal (learner_id);
create index appeal_centre on appeal (centre_id, stage);

-- What the plan reads at a centre, in index order.
create index judgement_centre on judgement (centre_id, learner_id, unit_key, assessor_id, at);
create index signature_centre on signature (centre_id, learner_id, unit_key);
create index evidence_centre on evidence (centre_id);
create index evidence_mapping_unit on evidence_mapping (learner_id, unit_key);

-- A sign-off withdrawn by an IQA's referral: the unit reopens, its evidence stays locked.
alter table signature add column withdrawn_at text;
alter table signature add column withdrawn_reason text;
