-- Business units (处室, 科室): an office evaluates business performance by unit, not by branch.
-- A branch may cover several units (a joint branch, 联合支部); a unit belongs to one branch at a
-- time. Its headcount weights its score in the branch's business score (docs/integration.md).
CREATE TABLE units (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    code text NOT NULL UNIQUE,
    name text NOT NULL,
    branch_id uuid NOT NULL REFERENCES branches (id) ON DELETE RESTRICT,
    headcount integer CHECK (headcount IS NULL OR headcount >= 0),
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX units_branch ON units (branch_id);

-- Annual performance results, loaded as the performance office exports them. Loading a year
-- again makes a new version; earlier versions stay as they were, for the record. The branch a
-- unit belonged to and its headcount are kept with each result, because units move between
-- branches from one year to the next.
CREATE TABLE performance_loads (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    year integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    version integer NOT NULL CHECK (version >= 1),
    source text NOT NULL DEFAULT '',
    file_name text NOT NULL DEFAULT '',
    loaded_by uuid REFERENCES users (id) ON DELETE SET NULL,
    loaded_by_name text NOT NULL DEFAULT '',
    loaded_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (year, version)
);

CREATE TABLE performance_results (
    load_id uuid NOT NULL REFERENCES performance_loads (id) ON DELETE CASCADE,
    unit_id uuid NOT NULL REFERENCES units (id) ON DELETE RESTRICT,
    branch_id uuid NOT NULL REFERENCES branches (id) ON DELETE RESTRICT,
    headcount integer,
    score double precision CHECK (score IS NULL OR (score >= 0 AND score <= 100)),
    grade text,
    indicators jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (load_id, unit_id),
    CHECK (score IS NOT NULL OR grade IS NOT NULL)
);
