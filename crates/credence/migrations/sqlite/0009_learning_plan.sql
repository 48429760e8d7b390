-- Each learner's plan: the units they take; and replies on feedback (issue 11).
--
-- A registration's chosen units (its individual learning plan), chosen by the centre or the
-- learner and checked against the qualification's rules of combination when chosen. A
-- registration with no row here has no chosen plan: the planner's shortest proposal is shown
-- instead, labelled as a proposal. Choosing again replaces the units; each change is in the
-- audit log with the units before and after.
create table learning_plan (
    registration_id integer primary key references registration (registration_id),
    learner_id integer not null references learner (learner_id),
    -- Who chose it last (null when the operator's command line did, with no person).
    chosen_by integer references person (person_id),
    created_at text not null,
    updated_at text not null
);

create index learning_plan_learner on learning_plan (learner_id);

-- The units of a plan, by unit key (the catalogue's stable key, as judgements name units).
create table learning_plan_unit (
    registration_id integer not null references learning_plan (registration_id) on delete cascade,
    unit_key text not null,
    constraint learning_plan_unit_pk primary key (registration_id, unit_key)
);

-- Replies on a criterion's feedback: with the feedback given with each decision, the
-- criterion's thread, shown to the learner and the assessor and kept in the record.
create table criterion_reply (
    criterion_reply_id integer primary key autoincrement,
    learner_id integer not null references learner (learner_id),
    unit_key text not null,
    criterion text not null,
    person_id integer not null references person (person_id),
    body text not null,
    at text not null,
    -- The centre the reply was made at (the unit's registration's).
    centre_id integer references centre (centre_id)
);

create index criterion_reply_learner on criterion_reply (learner_id);
