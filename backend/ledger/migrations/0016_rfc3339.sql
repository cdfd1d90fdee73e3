-- A time as the API shows it: RFC 3339 in UTC with microseconds ("2026-11-25T04:03:28.123456Z"); NULL stays NULL.
-- One definition for every query that answers a time (they were each spelling out the to_char pattern).
CREATE FUNCTION rfc3339(t TIMESTAMPTZ) RETURNS TEXT
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
    AS $$ SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') $$;
