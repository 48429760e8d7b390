-- Records and retention (issue 16): legal holds stop disposal.
--
-- A hold covers one learner (every record of theirs, at every centre) or one centre (every
-- record made there), with its reason. Disposal and erasure leave everything it covers in
-- place until it is lifted. Never deleted: a lifted hold keeps who lifted it and when.
create table legal_hold (
    legal_hold_id integer primary key autoincrement,
    learner_id integer references learner (learner_id),
    centre_id integer references centre (centre_id),
    reason text not null,
    placed_by text not null,
    placed_at text not null,
    lifted_by text,
    lifted_at text,
    constraint legal_hold_one_subject check ((learner_id is null) <> (centre_id is null))
);
create index legal_hold_learner on legal_hold (learner_id);
create index legal_hold_centre on legal_hold (centre_id);
