-- Trust (issue 10): the audit chain's head, encoding version 2 (centre and learner hashed),
-- and every portfolio record filed under the centre it was made at.

alter table audit_log add column learner_id integer;
alter table audit_log add column hash_version integer not null default 1;
create index audit_log_learner on audit_log (learner_id, seq);

-- The head of the chain: one row, locked by each append until its transaction commits, so
-- a change and its entry commit together and entries never fork.
create table audit_head (
    id integer primary key check (id = 1),
    seq integer not null,
    hash text not null,
    appends integer not null default 0
);
insert into audit_head (id, seq, hash)
select 1,
       coalesce((select max(seq) from audit_log), 0),
       coalesce((select hash from audit_log order by seq desc limit 1),
                '0000000000000000000000000000000000000000000000000000000000000000');

-- Records belong to the centre (registration) they were made under.
alter table evidence_mapping add column centre_id integer references centre (centre_id);
update evidence_mapping set centre_id = (select e.centre_id from evidence e where e.evidence_id = evidence_mapping.evidence_id);
alter table evidence_ksb add column centre_id integer references centre (centre_id);
update evidence_ksb set centre_id = (select e.centre_id from evidence e where e.evidence_id = evidence_ksb.evidence_id);
alter table judgement add column centre_id integer references centre (centre_id);
update judgement set centre_id = coalesce(
    (select r.centre_id from registration r where r.learner_id = judgement.learner_id and r.registered_at <= judgement.at order by r.registered_at desc, r.registration_id desc limit 1),
    (select r.centre_id from registration r where r.learner_id = judgement.learner_id order by r.registration_id limit 1));
alter table signature add column centre_id integer references centre (centre_id);
update signature set centre_id = coalesce(
    (select r.centre_id from registration r where r.learner_id = signature.learner_id and r.registered_at <= signature.at order by r.registered_at desc, r.registration_id desc limit 1),
    (select r.centre_id from registration r where r.learner_id = signature.learner_id order by r.registration_id limit 1));

