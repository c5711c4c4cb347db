-- Guesses at one account are taken one after another under an advisory lock. Counting and
-- recording an attempt took five round trips while that lock was held, so forty guesses at
-- once queued behind two hundred round trips. As one function the whole reservation is one
-- statement: the lock is held for the work and released when that statement commits.
--
-- VOLATILE matters: each query in the body takes a fresh snapshot, so the counts taken after
-- the lock see every attempt committed by the guess that held it before.
CREATE FUNCTION reserve_login_attempt(
    for_username text,
    from_address text,
    window_seconds double precision,
    failures_per_account integer,
    failures_per_address integer,
    OUT verdict text,
    OUT attempt bigint
) LANGUAGE plpgsql VOLATILE AS $body$
DECLARE
  account_failures integer;
  address_failures integer;
BEGIN
  -- Always account first, then address, so that two attempts never wait on each other crosswise.
  PERFORM pg_advisory_xact_lock(hashtextextended('login-account:' || lower(for_username), 0));
  PERFORM pg_advisory_xact_lock(hashtextextended('login-address:' || from_address, 0));

  SELECT count(*) INTO address_failures FROM login_attempts
   WHERE address = from_address AND NOT succeeded
     AND attempted_at > now() - make_interval(secs => window_seconds);
  IF address_failures >= failures_per_address THEN
    verdict := 'address-locked';
    RETURN;
  END IF;

  -- Failures before the account's last success are forgiven.
  SELECT count(*) INTO account_failures FROM login_attempts a
   WHERE lower(a.username) = lower(for_username) AND NOT a.succeeded
     AND a.attempted_at > now() - make_interval(secs => window_seconds)
     AND a.attempted_at > coalesce((SELECT max(s.attempted_at) FROM login_attempts s
                                     WHERE lower(s.username) = lower(for_username) AND s.succeeded), '-infinity');
  IF account_failures >= failures_per_account THEN
    verdict := 'account-locked';
    RETURN;
  END IF;

  -- clock_timestamp(), not now(): attempts that queued behind the lock are ordered by when
  -- they were counted, not by when their statements began.
  INSERT INTO login_attempts (username, address, succeeded, attempted_at)
  VALUES (for_username, from_address, false, clock_timestamp())
  RETURNING id INTO attempt;
  verdict := 'allowed';
END
$body$;
