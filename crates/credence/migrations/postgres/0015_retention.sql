-- Records retention (issue 16): each run of the disposal job, and schedule keys for jobs.
--
-- A run applies the retention rules on one day and disposes of what is due; each disposal
-- is its own audited write naming the run (`records.disposed`, detail `run`). The run's row
-- keeps what it came to, for the pages that show what falls due.
create table retention_run (
    retention_run_id bigint generated always as identity primary key,
    -- The day the rules were applied (YYYY-MM-DD).
    on_day text not null,
    started_by text not null,
    started_at text not null,
    finished_at text,
    -- Record sets (one learner's records at one centre) disposed of.
    disposed bigint not null default 0,
    files bigint not null default 0,
    -- Files the store would not remove (left to `credence evidence sweep`).
    files_left bigint not null default 0,
    -- Record sets due but under a legal hold.
    held bigint not null default 0
);

-- A scheduled job (the daily retention run) carries a key: two servers scheduling the same
-- day's run at once queue it once.
alter table job add column schedule_key text;
create unique index job_schedule_key on job (schedule_key);
