-- The register of one AO, newest first, a page at a time (issue 15): a register page finds
-- the ids and statuses of what a search matches, newest first, up to 10,001 (its counts
-- by status and the ids of any of its pages), then reads that page's 100 by id. For an
-- AO's whole register this index answers the first step by itself, in order, without
-- reading the table.
create index certificate_ao_newest on certificate (ao_code, certificate_id, status);
