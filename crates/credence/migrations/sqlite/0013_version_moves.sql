-- Who a new version touches (issue 14, item 4): a registration moved by its awarding
-- organisation to a newer published version of the same specification.
--
-- A registration stays on the version published when the learner registered
-- (registration.catalogue_version_id) until its AO moves it; the move changes that column
-- and adds a row here, in one transaction with its audit entry. Judgements, mappings and
-- signatures are keyed by learner, unit and criterion, not by version, and are kept as
-- they are: `reassess` lists the judged items (JSON array of [unit_key, number]) whose
-- words the newer version changed or removed, and a judgement of one of them recorded
-- before `moved_at` stays in the record but no longer counts
-- (credence_domain::portfolio::moves).
create table registration_move (
    registration_move_id integer primary key autoincrement,
    registration_id integer not null references registration (registration_id),
    learner_id integer not null references learner (learner_id),
    from_version_id integer not null references catalogue_version (catalogue_version_id),
    to_version_id integer not null references catalogue_version (catalogue_version_id),
    reassess text not null,
    moved_by text not null,
    moved_at text not null,
    created_at text not null
);
create index registration_move_learner on registration_move (learner_id);
