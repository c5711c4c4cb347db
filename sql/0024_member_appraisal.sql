-- The members' annual appraisal (民主评议党员, docs/appraisal.md): a round of its own kind whose
-- subjects are the members of the branches taking part. Each member writes a self-assessment
-- (named) and casts one anonymous ballot on the others of their branch or party group; non-party
-- representatives (群众代表) may vote too. The branch committee proposes each member's category,
-- the party committee approves, and each member reads their own result through their link.
--
-- Privacy: the ballot goes through a sealed box and a mixer, as branch ballots do, and what the
-- mixer writes is counts only (votes per member, voter group and category). A stored ballot would
-- name its voter: the one member of the branch it says nothing about. The self-assessment is
-- written in a transaction of its own and holds nothing that leads to the ballot.

-- A member's party group (党小组), for large branches that appraise within their groups.
ALTER TABLE members ADD COLUMN party_group text CHECK (party_group IS NULL OR party_group <> '');

CREATE TABLE appraisal_rounds (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    title text NOT NULL CHECK (title <> ''),
    year integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'scheduled', 'open', 'closed', 'cancelled')),
    -- Categories, the top category's quota, whether representatives vote, the anonymity
    -- threshold, whether large branches vote within their party groups.
    config jsonb NOT NULL,
    opens_at timestamptz,
    closes_at timestamptz,
    opened_at timestamptz,
    closed_at timestamptz,
    last_mixed_at timestamptz,
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (closes_at IS NULL OR opens_at IS NULL OR closes_at > opens_at)
);
CREATE INDEX appraisal_rounds_schedule ON appraisal_rounds (status, opens_at, closes_at);

-- The branches taking part, with where the committee's proposals stand: pending (not yet
-- submitted), submitted (waiting for the party committee), returned (with its comment), approved.
CREATE TABLE appraisal_branches (
    round_id uuid NOT NULL REFERENCES appraisal_rounds (id) ON DELETE CASCADE,
    branch_id uuid NOT NULL REFERENCES branches (id) ON DELETE RESTRICT,
    review text NOT NULL DEFAULT 'pending' CHECK (review IN ('pending', 'submitted', 'returned', 'approved')),
    review_comment text NOT NULL DEFAULT '',
    submitted_at timestamptz,
    submitted_by uuid REFERENCES users (id) ON DELETE SET NULL,
    reviewed_at timestamptz,
    reviewed_by uuid REFERENCES users (id) ON DELETE SET NULL,
    PRIMARY KEY (round_id, branch_id)
);

-- The members appraised, as they were when the round opened: their branch and party group.
-- `left_at` is stamped when a member leaves the branch (or the office) while the round runs:
-- they drop out of the rosters, the quota and the proposals; votes already cast stay counted.
CREATE TABLE appraisal_members (
    round_id uuid NOT NULL REFERENCES appraisal_rounds (id) ON DELETE CASCADE,
    member_id uuid NOT NULL REFERENCES members (id) ON DELETE RESTRICT,
    branch_id uuid NOT NULL REFERENCES branches (id) ON DELETE RESTRICT,
    party_group text,
    left_at timestamptz,
    PRIMARY KEY (round_id, member_id)
);
CREATE INDEX appraisal_members_branch ON appraisal_members (round_id, branch_id);
CREATE INDEX appraisal_members_member ON appraisal_members (member_id) WHERE left_at IS NULL;

-- Non-party colleagues who vote on a branch's members (群众代表), imported for one round.
CREATE TABLE appraisal_representatives (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    round_id uuid NOT NULL REFERENCES appraisal_rounds (id) ON DELETE CASCADE,
    branch_id uuid NOT NULL REFERENCES branches (id) ON DELETE RESTRICT,
    name text NOT NULL CHECK (name <> ''),
    phone text,
    party_group text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX appraisal_representatives_round ON appraisal_representatives (round_id, branch_id);

-- One link per member or representative and round; only hashes of its token and short code are
-- stored, as for branch invitations. `voted` says the ballot was cast, and nothing more.
CREATE TABLE appraisal_invitations (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    round_id uuid NOT NULL REFERENCES appraisal_rounds (id) ON DELETE CASCADE,
    branch_id uuid NOT NULL REFERENCES branches (id) ON DELETE RESTRICT,
    member_id uuid REFERENCES members (id) ON DELETE RESTRICT,
    representative_id uuid REFERENCES appraisal_representatives (id) ON DELETE CASCADE,
    token_hash bytea NOT NULL UNIQUE,
    short_code_hash bytea UNIQUE,
    issued_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    voted boolean NOT NULL DEFAULT false,
    CHECK ((member_id IS NULL) <> (representative_id IS NULL))
);
CREATE UNIQUE INDEX appraisal_invitations_member ON appraisal_invitations (round_id, member_id)
    WHERE revoked_at IS NULL AND member_id IS NOT NULL;
CREATE UNIQUE INDEX appraisal_invitations_representative ON appraisal_invitations (round_id, representative_id)
    WHERE revoked_at IS NULL AND representative_id IS NOT NULL;

-- A member's self-assessment (个人自评): named, read by their branch committee and the
-- administrators. Written in its own transaction, never beside a ballot.
CREATE TABLE appraisal_self_assessments (
    round_id uuid NOT NULL REFERENCES appraisal_rounds (id) ON DELETE CASCADE,
    member_id uuid NOT NULL REFERENCES members (id) ON DELETE RESTRICT,
    text text NOT NULL CHECK (text <> ''),
    written_on date NOT NULL,
    PRIMARY KEY (round_id, member_id)
);

-- Ballots waiting to be mixed, sealed under the server secret (docs/privacy.md): no branch, no
-- member, no invitation, the date only.
CREATE TABLE appraisal_ballot_box (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    round_id uuid NOT NULL REFERENCES appraisal_rounds (id) ON DELETE CASCADE,
    voter_group text NOT NULL CHECK (voter_group IN ('members', 'representatives')),
    submitted_on date NOT NULL,
    sealed bytea NOT NULL
);
CREATE INDEX appraisal_ballot_box_round ON appraisal_ballot_box (round_id);

-- Keys of ballot forms already sent, so that a retry or double click is cast once (hash only).
CREATE TABLE appraisal_submission_keys (
    key_hash bytea PRIMARY KEY,
    round_id uuid NOT NULL REFERENCES appraisal_rounds (id) ON DELETE CASCADE,
    used_on date NOT NULL
);

-- What the mixer writes: per member, voter group and category (or 'abstain', not able to
-- judge), how many votes. Counts only: no ballot is ever stored whole.
CREATE TABLE appraisal_votes (
    round_id uuid NOT NULL REFERENCES appraisal_rounds (id) ON DELETE CASCADE,
    member_id uuid NOT NULL REFERENCES members (id) ON DELETE RESTRICT,
    voter_group text NOT NULL CHECK (voter_group IN ('members', 'representatives')),
    category text NOT NULL,
    votes integer NOT NULL CHECK (votes > 0),
    PRIMARY KEY (round_id, member_id, voter_group, category)
);

-- The branch committee's proposed category for each member (组织评定), with its note, the
-- explanation the checks asked for and the flags they raised, as submitted to the approver.
CREATE TABLE appraisal_proposals (
    round_id uuid NOT NULL REFERENCES appraisal_rounds (id) ON DELETE CASCADE,
    member_id uuid NOT NULL REFERENCES members (id) ON DELETE RESTRICT,
    category text NOT NULL,
    note text NOT NULL DEFAULT '',
    explanation text NOT NULL DEFAULT '',
    flags text[] NOT NULL DEFAULT '{}',
    proposed_by uuid REFERENCES users (id) ON DELETE SET NULL,
    proposed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (round_id, member_id)
);

-- An integration reads appraisal results only with a scope given for that alone.
ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_scope_check;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_scope_check CHECK (scope IN ('read', 'write', 'appraisals'));

-- A member who leaves their branch (moved to another, or gone from the office) while an
-- appraisal round runs is stamped as left in it, whichever way the change came (a list import,
-- the member's page), and their unused link stops working.
CREATE FUNCTION appraisal_member_left() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE appraisal_members am SET left_at = now()
    FROM appraisal_rounds r
    WHERE am.member_id = NEW.id AND am.round_id = r.id AND am.left_at IS NULL
      AND r.status IN ('draft', 'scheduled', 'open');
    UPDATE appraisal_invitations i SET revoked_at = now()
    FROM appraisal_rounds r
    WHERE i.member_id = NEW.id AND i.round_id = r.id AND i.revoked_at IS NULL AND NOT i.voted
      AND r.status IN ('draft', 'scheduled', 'open');
    RETURN NEW;
END $$;
CREATE TRIGGER members_left_appraisal AFTER UPDATE OF branch_id, active ON members
    FOR EACH ROW WHEN (OLD.branch_id IS DISTINCT FROM NEW.branch_id OR (OLD.active AND NOT NEW.active))
    EXECUTE FUNCTION appraisal_member_left();
