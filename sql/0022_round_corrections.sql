-- Rounds an office can correct (docs/rounds.md, "Correcting a round"). A draft or scheduled
-- round that never opened is edited or deleted outright; one that opened is cancelled (作废)
-- instead, with its reason: it stays in the database and the audit log, and drops out of the
-- home pages, the rounds list, rankings, branch records and the secretaries' views.
ALTER TABLE rounds DROP CONSTRAINT rounds_status_check;
ALTER TABLE rounds ADD CONSTRAINT rounds_status_check
    CHECK (status IN ('draft', 'scheduled', 'open', 'closed', 'cancelled'));
ALTER TABLE rounds ADD COLUMN cancelled_at timestamptz;
ALTER TABLE rounds ADD COLUMN cancel_reason text;
ALTER TABLE rounds ADD CONSTRAINT rounds_cancel_reason
    CHECK (status <> 'cancelled' OR (cancelled_at IS NOT NULL AND cancel_reason IS NOT NULL));

-- A branch's public link takes one answer per browser unless the administrator marks the
-- branch as answering from a shared device (a tablet in a service hall). Then a browser that
-- has answered may answer again, and those answers are counted per branch, never marked on
-- the ballot: the committee sees how many of a branch's public answers came from a device
-- that had answered before, and no answer can be picked out as one of them.
ALTER TABLE round_branches ADD COLUMN shared_device boolean NOT NULL DEFAULT false;
ALTER TABLE round_branches ADD COLUMN repeated_device_answers integer NOT NULL DEFAULT 0
    CHECK (repeated_device_answers >= 0);
