-- Indexes the scale measurement (issue 15, docs/operations.md "Measured at scale") showed
-- missing.
--
-- A claim's current certificate (its latest: a replacement where there is one) is read by
-- `where claim_id = $1 order by certificate_id desc`, once per claim on the centre's claims
-- page. `certificate_claim` covers only originals (`where replaces is null`), so without this
-- every lookup read the whole register: 2,500 sequential scans of 50,000 rows (30 s) for one
-- centre's claims page at a hundredth of an AO's size, and of 5,000,000 rows at full size.
create index certificate_claim_latest on certificate (claim_id, certificate_id);

-- A centre's registrations, newest first (`where centre_id = $1 order by registration_id
-- desc limit $2`): without it the whole table is read (79 ms at a tenth of an AO's size,
-- growing with every centre's learners, not this one's).
create index registration_centre on registration (centre_id, registration_id);
