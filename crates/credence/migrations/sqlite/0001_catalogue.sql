-- The catalogue: one row per imported specification version. The specification and its
-- import report are stored whole as JSON (the documented export format); the tables after
-- it index the published versions for search and cross-reference.
create table awarding_organisation (
    ao_code text primary key,
    name text not null,
    created_at text not null
);

create table catalogue_version (
    catalogue_version_id integer primary key autoincrement,
    spec_key text not null,
    version_number integer not null,
    -- draft: being reviewed, may change; published: immutable.
    status text not null check (status in ('draft', 'published')),
    -- 1 for the newest published version of its spec_key, else 0.
    is_current integer not null default 0,
    ao_code text not null references awarding_organisation (ao_code),
    title text not null,
    source_name text not null,
    source_sha256 text not null,
    source_text text not null,
    specification_json text not null,
    report_json text not null,
    open_findings integer not null,
    imported_at text not null,
    published_at text,
    created_at text not null,
    updated_at text not null,
    constraint catalogue_version_key_number_unique unique (spec_key, version_number)
);

create table qualification (
    catalogue_version_id integer not null references catalogue_version (catalogue_version_id),
    qan text not null,
    title text not null,
    level integer not null,
    ao_code text not null,
    primary key (catalogue_version_id, qan)
);

create table unit (
    catalogue_version_id integer not null references catalogue_version (catalogue_version_id),
    unit_key text not null,
    ao_ref text not null,
    title text not null,
    level integer not null,
    primary key (catalogue_version_id, unit_key)
);

create table assessment_criterion (
    catalogue_version_id integer not null references catalogue_version (catalogue_version_id),
    unit_key text not null,
    number text not null,
    text text not null,
    -- lower-cased text, for case-insensitive search on both databases.
    search_text text not null,
    primary key (catalogue_version_id, unit_key, number)
);

create index catalogue_version_current on catalogue_version (is_current, spec_key);
