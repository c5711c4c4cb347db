-- The party committee's long-term qualitative assessment of a branch (长期定性), for a period of
-- several years, beside the yearly quantitative record. Who wrote it and when is kept; edits
-- are in the audit log with the text before and after.
CREATE TABLE branch_assessments (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    branch_id uuid NOT NULL REFERENCES branches (id) ON DELETE CASCADE,
    first_year integer NOT NULL CHECK (first_year BETWEEN 2000 AND 2100),
    last_year integer NOT NULL CHECK (last_year BETWEEN 2000 AND 2100),
    level text NOT NULL CHECK (level IN ('good', 'fairlyGood', 'fair', 'poor')),
    judgement text NOT NULL CHECK (length(judgement) BETWEEN 1 AND 4000),
    author_id uuid REFERENCES users (id) ON DELETE SET NULL,
    author_name text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (last_year >= first_year)
);
CREATE INDEX branch_assessments_branch ON branch_assessments (branch_id, last_year DESC);
