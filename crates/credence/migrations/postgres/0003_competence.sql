-- Staff competence, declared interests and the assignment of assessors and IQAs (issue 5).

-- One record per person: occupational competence level, assessor/IQA awards (held or
-- working towards) and CPD, as the JSON of credence_domain::people::competence.
create table staff_competence (
    person_id bigint primary key references person (person_id),
    record text not null,
    created_at text not null,
    updated_at text not null
);

-- A personal interest in a learner's result (a relative, a line manager...).
create table interest (
    interest_id bigint generated always as identity primary key,
    person_id bigint not null references person (person_id),
    learner_id bigint not null references learner (learner_id),
    kind text not null,
    note text not null,
    declared_on text not null,
    created_at text not null
);
create index interest_person on interest (person_id);

-- Who assesses and who quality-assures a learner's registration.
create table assignment (
    assignment_id bigint generated always as identity primary key,
    registration_id bigint not null references registration (registration_id),
    person_id bigint not null references person (person_id),
    role text not null check (role in ('assessor', 'iqa')),
    assigned_by bigint references person (person_id),
    created_at text not null,
    constraint assignment_unique unique (registration_id, role, person_id)
);
create index assignment_person on assignment (person_id);
