-- The certificate register searched by words (issue 15: a learner's name searched for inside
-- the number, name, QAN, unit reference and title read the whole register: 6.5 s at a tenth
-- of an AO's size, growing with every certificate issued).
--
-- A trigram index (PostgreSQL's pg_trgm, shipped with PostgreSQL and trusted: a database
-- owner may create it) finds `like '%word%'` from the index. The indexed text must be
-- written exactly as `Store::certificates` writes it, or the index is not used: the five
-- fields joined by the unit separator (chr(31), which no search contains), in lower case.
--
-- Where pg_trgm is not installed the register is still searched, by reading it, as before.
do $$
begin
    create extension if not exists pg_trgm;
exception when others then
    raise notice 'pg_trgm is not available (%): the register is searched without an index', sqlerrm;
end $$;

do $$
begin
    if exists (select 1 from pg_extension where extname = 'pg_trgm') then
        execute 'create index certificate_search on certificate using gin ('
            || '(lower(number || chr(31) || learner_name || chr(31) || coalesce(qan, '''') || chr(31) '
            || '|| coalesce(unit_reference, '''') || chr(31) || title)) gin_trgm_ops)';
    end if;
end $$;
