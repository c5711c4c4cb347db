-- Kaoping: first schema for the whole domain.
-- Conventions: ids are random UUIDs (gen_random_uuid, built into PostgreSQL 13+); times are
-- timestamptz and stored in UTC; codes people type (branch codes, staff numbers) are text.

-- Organisation structure ---------------------------------------------------------------

-- Party organisations above branches (机关党委, 党总支 …), as a tree.
CREATE TABLE organisations (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    code text NOT NULL UNIQUE,
    name text NOT NULL,
    parent_id uuid REFERENCES organisations (id) ON DELETE RESTRICT,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Party branches (党支部), the subjects of a branch-evaluation round.
CREATE TABLE branches (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    code text NOT NULL UNIQUE,
    name text NOT NULL,
    organisation_id uuid REFERENCES organisations (id) ON DELETE RESTRICT,
    secretary_name text,
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX branches_organisation ON branches (organisation_id);

-- Party members (党员), each in one branch.
CREATE TABLE members (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    staff_number text NOT NULL UNIQUE,
    name text NOT NULL,
    branch_id uuid NOT NULL REFERENCES branches (id) ON DELETE RESTRICT,
    phone text,
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX members_branch ON members (branch_id);

-- Accounts -----------------------------------------------------------------------------

CREATE TABLE users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    username text NOT NULL,
    display_name text NOT NULL DEFAULT '',
    role text NOT NULL CHECK (role IN ('admin', 'evaluator', 'viewer')),
    -- A viewer (branch secretary) sees one branch only.
    branch_id uuid REFERENCES branches (id) ON DELETE RESTRICT,
    password_hash text NOT NULL,
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    password_changed_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((role = 'viewer') = (branch_id IS NOT NULL))
);
CREATE UNIQUE INDEX users_username ON users (lower(username));

-- Server-side sessions, shared by every instance. The key is stored hashed so that a copy of
-- the table cannot be replayed as cookies.
CREATE TABLE sessions (
    key_hash bytea PRIMARY KEY,
    user_id uuid REFERENCES users (id) ON DELETE CASCADE,
    data jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz
);
CREATE INDEX sessions_expiry ON sessions (expires_at);
CREATE INDEX sessions_user ON sessions (user_id);

-- Login attempts, for throttling per account and per address.
CREATE TABLE login_attempts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username text NOT NULL,
    address text NOT NULL,
    succeeded boolean NOT NULL,
    attempted_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_attempts_username ON login_attempts (lower(username), attempted_at);
CREATE INDEX login_attempts_address ON login_attempts (address, attempted_at);

-- Who did what, when. Never holds what an anonymous respondent answered.
CREATE TABLE audit_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    actor_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
    actor_name text NOT NULL DEFAULT '',
    action text NOT NULL,
    subject text NOT NULL DEFAULT '',
    address text,
    details jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_action ON audit_log (action, at);

-- Forms --------------------------------------------------------------------------------

-- A form exactly as used: the parsed definition is frozen here when a round opens, so that
-- later edits to the file in forms/ never change what stored answers mean.
CREATE TABLE form_versions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    form_key text NOT NULL,
    version integer NOT NULL,
    checksum text NOT NULL,
    definition jsonb NOT NULL,
    source_file text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (form_key, version, checksum)
);

-- Rounds -------------------------------------------------------------------------------

CREATE TABLE rounds (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    title text NOT NULL,
    year integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    kind text NOT NULL DEFAULT 'branch-evaluation' CHECK (kind IN ('branch-evaluation')),
    status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'scheduled', 'open', 'closed')),
    -- Grade bands, veto grade, bonus cap, quota, anonymity threshold … (aggregation spec §2–§6).
    config jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- SHA-256 of the canonical configuration, fixed when the round opens.
    config_hash text,
    opens_at timestamptz,
    closes_at timestamptz,
    opened_at timestamptz,
    closed_at timestamptz,
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (closes_at IS NULL OR opens_at IS NULL OR closes_at > opens_at)
);
CREATE INDEX rounds_schedule ON rounds (status, opens_at, closes_at);

-- Per rater group of a round: its form, weight, quorum and trimming.
CREATE TABLE round_groups (
    round_id uuid NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
    rater_group text NOT NULL CHECK (rater_group IN ('organisation', 'members', 'public')),
    form_version_id uuid REFERENCES form_versions (id) ON DELETE RESTRICT,
    form_key text NOT NULL,
    weight double precision NOT NULL CHECK (weight >= 0),
    config jsonb NOT NULL DEFAULT '{}'::jsonb,
    PRIMARY KEY (round_id, rater_group)
);

-- The branches taking part in a round, with what was true of them when it opened.
CREATE TABLE round_branches (
    round_id uuid NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
    branch_id uuid NOT NULL REFERENCES branches (id) ON DELETE RESTRICT,
    eligible_members integer NOT NULL DEFAULT 0,
    -- Short code of the public link /p/{public_code}.
    public_code text NOT NULL UNIQUE,
    public_cap integer,
    PRIMARY KEY (round_id, branch_id)
);

-- Member invitations. The token itself is never stored, only its SHA-256. An invitation knows
-- whether it was used (for reminders) but nothing points from it to the response.
CREATE TABLE invitations (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    round_id uuid NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
    branch_id uuid NOT NULL REFERENCES branches (id) ON DELETE RESTRICT,
    member_id uuid NOT NULL REFERENCES members (id) ON DELETE RESTRICT,
    token_hash bytea NOT NULL UNIQUE,
    issued_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    -- A date only: an exact time could be matched against a response's arrival.
    used_on date
);
CREATE INDEX invitations_member ON invitations (round_id, member_id);
CREATE UNIQUE INDEX invitations_live ON invitations (round_id, member_id) WHERE revoked_at IS NULL;

-- Evaluators assigned to score branches in a round.
CREATE TABLE evaluator_assignments (
    round_id uuid NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
    branch_id uuid NOT NULL REFERENCES branches (id) ON DELETE RESTRICT,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (round_id, branch_id, user_id)
);

-- Responses ----------------------------------------------------------------------------

-- Anonymous ballots waiting to be mixed into responses in shuffled batches, so that neither
-- insertion order nor transaction ids tie a response to the token burnt with it.
CREATE TABLE ballot_box (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    round_id uuid NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
    branch_id uuid NOT NULL REFERENCES branches (id) ON DELETE RESTRICT,
    rater_group text NOT NULL CHECK (rater_group IN ('members', 'public')),
    form_version_id uuid NOT NULL REFERENCES form_versions (id) ON DELETE RESTRICT,
    submitted_on date NOT NULL,
    ballot jsonb NOT NULL
);
CREATE INDEX ballot_box_round ON ballot_box (round_id);

-- One stored response with its computed scores (aggregation spec §1).
CREATE TABLE responses (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    round_id uuid NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
    branch_id uuid NOT NULL REFERENCES branches (id) ON DELETE RESTRICT,
    rater_group text NOT NULL CHECK (rater_group IN ('organisation', 'members', 'public')),
    form_version_id uuid NOT NULL REFERENCES form_versions (id) ON DELETE RESTRICT,
    submitted_on date NOT NULL,
    score double precision CHECK (score IS NULL OR score BETWEEN 0 AND 100),
    dimension_scores jsonb NOT NULL DEFAULT '{}'::jsonb,
    straight_lined boolean NOT NULL DEFAULT false
);
CREATE INDEX responses_subject ON responses (round_id, branch_id, rater_group);

CREATE TABLE answers (
    response_id uuid NOT NULL REFERENCES responses (id) ON DELETE CASCADE,
    item_key text NOT NULL,
    option_key text,
    number_value double precision,
    text_value text,
    points double precision CHECK (points IS NULL OR points BETWEEN 0 AND 100),
    PRIMARY KEY (response_id, item_key)
);

-- Submission keys already used, so that a retried or double-clicked POST stores nothing twice.
-- Holds the key's hash and the round only: nothing that leads to the response.
CREATE TABLE submission_keys (
    key_hash bytea PRIMARY KEY,
    round_id uuid NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
    used_on date NOT NULL
);

-- Organisation score sheets ------------------------------------------------------------

-- One evaluator's sheet for one branch. Not anonymous: who scored what is kept.
CREATE TABLE org_sheets (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    round_id uuid NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
    branch_id uuid NOT NULL REFERENCES branches (id) ON DELETE RESTRICT,
    evaluator_id uuid NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    form_version_id uuid NOT NULL REFERENCES form_versions (id) ON DELETE RESTRICT,
    status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'submitted')),
    remark text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    submitted_at timestamptz,
    UNIQUE (round_id, branch_id, evaluator_id)
);

CREATE TABLE org_sheet_entries (
    sheet_id uuid NOT NULL REFERENCES org_sheets (id) ON DELETE CASCADE,
    item_key text NOT NULL,
    -- Deduction items: points lost; bonus items: points earned; baseline items: passed.
    points_lost double precision CHECK (points_lost IS NULL OR points_lost >= 0),
    points_earned double precision CHECK (points_earned IS NULL OR points_earned >= 0),
    passed boolean,
    note text NOT NULL DEFAULT '',
    PRIMARY KEY (sheet_id, item_key)
);

-- Results ------------------------------------------------------------------------------

-- Computed results: provisional while a round is open, final (exactly one) at close.
CREATE TABLE result_snapshots (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    round_id uuid NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('provisional', 'final')),
    method_version text NOT NULL,
    config_hash text NOT NULL,
    computed_at timestamptz NOT NULL DEFAULT now(),
    results jsonb NOT NULL
);
CREATE UNIQUE INDEX result_snapshots_final ON result_snapshots (round_id) WHERE kind = 'final';
