-- Long tasks (issue 15): work a person asks for that is too big for one request (a large
-- registrations file, a centre's sampling plan, a portfolio zip) runs as a job on the one
-- queue, with a page that shows its progress and, once it is done, its result.
--
-- The person who asked (only they see the task's page). Their role (grant) at the time is
-- in the payload: the worker acts as them, checked again when it runs.
alter table job add column requested_by bigint references person (person_id);
-- How far the work has got: `progress_done` of `progress_total` (0 of 0 before it starts),
-- and what it is doing now, in words.
alter table job add column progress_done bigint not null default 0;
alter table job add column progress_total bigint not null default 0;
alter table job add column progress_note text;
create index job_requested_by on job (requested_by, job_id);
