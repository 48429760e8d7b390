-- What a sampling plan is made from, kept as the work happens (issue 12's benchmark: a plan at a
-- centre with 200,000 judgements spent 250 ms of 350 grouping them on every load).
--
-- One row per learner's unit and assessor at a centre: when that assessor first and last judged
-- one of the unit's criteria there. Written in the transaction that records the judgement,
-- removed with the learner's records when their retention ends.
create table unit_work (
    centre_id bigint not null references centre (centre_id),
    learner_id bigint not null references learner (learner_id),
    unit_key text not null,
    assessor_id bigint not null references person (person_id),
    first_at text not null,
    last_at text not null,
    primary key (centre_id, learner_id, unit_key, assessor_id)
);

insert into unit_work (centre_id, learner_id, unit_key, assessor_id, first_at, last_at)
select centre_id, learner_id, unit_key, assessor_id, min(at), max(at)
from judgement
where centre_id is not null
group by centre_id, learner_id, unit_key, assessor_id;
