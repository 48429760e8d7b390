-- The certificate register searched by words: on PostgreSQL a trigram index (pg_trgm). SQLite,
-- the embedded default for one centre or a small AO, searches the register by reading it (a
-- few thousand certificates: a few milliseconds), so it has nothing to add here.
select 1;
