-- From closing to final (docs/publicity.md): a closed round's proposed results are published
-- for a period (公示), anyone may object (异议), upheld objections are corrected on record, and
-- the committee signs the results off (定稿). Nothing here is ever deleted: a correction keeps
-- the snapshot it replaced, a reopened publicity keeps the approval it withdrew.
ALTER TABLE rounds DROP CONSTRAINT rounds_status_check;
ALTER TABLE rounds ADD CONSTRAINT rounds_status_check
    CHECK (status IN ('draft', 'scheduled', 'open', 'closed', 'publicity', 'approved', 'cancelled'));

-- The publicity period as set (starts_at, ends_at) and as it happened (started_at, ended_at,
-- stamped once by whichever instance's scheduler got there first). `publicity_shows` is what
-- the public page lists; `publicity_key` is the page's unguessable address.
ALTER TABLE rounds ADD COLUMN publicity_starts_at timestamptz;
ALTER TABLE rounds ADD COLUMN publicity_ends_at timestamptz;
ALTER TABLE rounds ADD COLUMN publicity_started_at timestamptz;
ALTER TABLE rounds ADD COLUMN publicity_ended_at timestamptz;
ALTER TABLE rounds ADD COLUMN publicity_shows text CHECK (publicity_shows IN ('top', 'grades', 'scores'));
ALTER TABLE rounds ADD COLUMN publicity_key text UNIQUE;
ALTER TABLE rounds ADD CONSTRAINT rounds_publicity_period
    CHECK (publicity_ends_at IS NULL OR (publicity_starts_at IS NOT NULL AND publicity_ends_at > publicity_starts_at));
ALTER TABLE rounds ADD CONSTRAINT rounds_publicity_set
    CHECK (status NOT IN ('publicity', 'approved') OR (publicity_key IS NOT NULL AND publicity_shows IS NOT NULL));

-- A correction replaces the final snapshot; the one it replaced stays, marked superseded.
ALTER TABLE result_snapshots DROP CONSTRAINT result_snapshots_kind_check;
ALTER TABLE result_snapshots ADD CONSTRAINT result_snapshots_kind_check
    CHECK (kind IN ('provisional', 'final', 'superseded'));
ALTER TABLE result_snapshots ADD COLUMN superseded_at timestamptz;

-- The committee's sign-off, with the meeting's reference and the hashes of what it approved:
-- the configuration (forms and settings) and the snapshot's exact bytes. Reopening the
-- publicity withdraws it, with the reason; a later sign-off is a new row.
CREATE TABLE round_approvals (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    round_id uuid NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
    reference text NOT NULL CHECK (reference <> ''),
    meeting_on date NOT NULL,
    approved_at timestamptz NOT NULL DEFAULT now(),
    approved_by uuid REFERENCES users (id) ON DELETE SET NULL,
    config_hash text NOT NULL,
    results_hash text NOT NULL,
    snapshot_id uuid NOT NULL REFERENCES result_snapshots (id),
    -- Objections still open when it was signed, which the approver confirmed.
    open_objections integer NOT NULL DEFAULT 0,
    withdrawn_at timestamptz,
    withdrawn_reason text,
    withdrawn_by uuid REFERENCES users (id) ON DELETE SET NULL,
    CHECK (withdrawn_at IS NULL OR withdrawn_reason IS NOT NULL)
);
CREATE UNIQUE INDEX round_approvals_standing ON round_approvals (round_id) WHERE withdrawn_at IS NULL;

-- Objections: filed by anyone through the publicity page, or by a branch secretary signed in.
-- The receipt is what the person quotes; the status link's secret is stored hashed, so the
-- database alone does not give the way to read an objection as its filer. `submission_key`
-- makes a resent form store nothing twice.
CREATE TABLE objections (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    round_id uuid NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
    branch_id uuid NOT NULL REFERENCES branches (id) ON DELETE RESTRICT,
    receipt text NOT NULL UNIQUE,
    status_key_hash text NOT NULL UNIQUE,
    submission_key text NOT NULL UNIQUE,
    body text NOT NULL CHECK (char_length(body) BETWEEN 1 AND 5000),
    contact_name text CHECK (char_length(contact_name) <= 100),
    contact_phone text CHECK (char_length(contact_phone) <= 40),
    filed_by uuid REFERENCES users (id) ON DELETE SET NULL,
    filed_at timestamptz NOT NULL DEFAULT now(),
    assigned_to uuid REFERENCES users (id) ON DELETE SET NULL,
    reply text CHECK (char_length(reply) <= 5000),
    replied_at timestamptz,
    decision text CHECK (decision IN ('not-upheld', 'upheld')),
    decided_at timestamptz,
    decided_by uuid REFERENCES users (id) ON DELETE SET NULL,
    CHECK ((decision IS NULL) = (decided_at IS NULL))
);
CREATE INDEX objections_round ON objections (round_id, filed_at);

-- Corrections, each recomputing the round's results through the same method: an evaluator's
-- sheet amended (its old entries in `details`), a ballot excluded as invalid, or a grade set by
-- the committee's decision. `differences` is what changed, figure by figure.
CREATE TABLE result_corrections (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    round_id uuid NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
    objection_id uuid REFERENCES objections (id) ON DELETE SET NULL,
    kind text NOT NULL CHECK (kind IN ('sheet', 'ballot', 'grade')),
    branch_id uuid NOT NULL REFERENCES branches (id) ON DELETE RESTRICT,
    reason text NOT NULL CHECK (reason <> ''),
    details jsonb NOT NULL DEFAULT '{}'::jsonb,
    differences jsonb NOT NULL DEFAULT '[]'::jsonb,
    previous_snapshot_id uuid REFERENCES result_snapshots (id),
    snapshot_id uuid REFERENCES result_snapshots (id),
    made_at timestamptz NOT NULL DEFAULT now(),
    made_by uuid REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX result_corrections_round ON result_corrections (round_id, made_at);

-- A ballot found invalid stays stored, and counts nowhere from its correction on.
ALTER TABLE responses ADD COLUMN excluded_by uuid REFERENCES result_corrections (id);

-- A grade set by the committee's decision, applied over the method's grade.
CREATE TABLE grade_decisions (
    round_id uuid NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
    branch_id uuid NOT NULL REFERENCES branches (id) ON DELETE RESTRICT,
    grade text NOT NULL,
    reason text NOT NULL CHECK (reason <> ''),
    correction_id uuid NOT NULL REFERENCES result_corrections (id),
    PRIMARY KEY (round_id, branch_id)
);

-- The working-day calendar's years as the administrator entered them (the years published
-- when this version was made ship with it); an entered year replaces the shipped one.
CREATE TABLE calendar_years (
    year integer PRIMARY KEY CHECK (year BETWEEN 2000 AND 2100),
    entries text NOT NULL,
    entered_at timestamptz NOT NULL DEFAULT now(),
    entered_by uuid REFERENCES users (id) ON DELETE SET NULL
);
