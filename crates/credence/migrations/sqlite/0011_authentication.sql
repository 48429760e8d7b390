-- Authentication of a unit's evidence (issue 17): where the awarding organisation asks for it
-- (OCR: "Centres must confirm to OCR that the evidence is authentic"), the learner declares the
-- work is their own and the centre confirms it authentic, unit by unit, before the unit is
-- claimed. Signed like the sign-off declarations: the person, the time and the hash of the
-- unit's evidence set as it stood; evidence changed afterwards needs both again. Never edited:
-- the latest of each role counts.
create table unit_authentication (
    unit_authentication_id integer primary key autoincrement,
    learner_id integer not null references learner (learner_id),
    unit_key text not null,
    -- learner: "this work is my own"; centre: the centre confirms the evidence authentic.
    role text not null check (role in ('learner', 'centre')),
    person_id integer not null references person (person_id),
    at text not null,
    statement text not null,
    evidence_hash text not null,
    centre_id integer not null references centre (centre_id)
);
create index unit_authentication_learner on unit_authentication (learner_id);
