-- Evidence over time (issue 17, item 2): how many occasions a centre asks for, per unit.
--
-- OCR unit 39 asks for evidence "over a sufficient period of time on different occasions"
-- (seed 004, lines 173-174) and gives no number; the catalogue reads the plural as at least
-- 2. A centre records its own reading of "sufficient" for a unit here, with the reason: at
-- least the specification's minimum, at most 20 (checked by the application, which knows the
-- minimum; the bounds below only keep nonsense out). The number a criterion's status uses for
-- the centre's learners is this setting where there is one, else the specification's
-- minimum. Setting it again replaces the row; every change is in the audit log with the
-- number before and after.
create table centre_evidence_occasions (
    centre_id bigint not null references centre (centre_id),
    -- The catalogue's stable unit key (as judgements name units).
    unit_key text not null,
    occasions bigint not null,
    reason text not null,
    set_by bigint references person (person_id),
    created_at text not null,
    updated_at text not null,
    constraint centre_evidence_occasions_pk primary key (centre_id, unit_key),
    constraint centre_evidence_occasions_range check (occasions between 1 and 20)
);
