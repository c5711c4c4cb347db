-- A closed round's integrated sheet (docs/integration.md): its final party-building results
-- read with one version of the year's performance results, stored once so that the figures the
-- committee handed over stay as they were. Adopting a later version replaces the row, and the
-- audit log keeps that it happened; both inputs are immutable, so the sheet can be recomputed
-- from them byte for byte.
CREATE TABLE integrated_sheets (
    round_id uuid PRIMARY KEY REFERENCES rounds (id) ON DELETE CASCADE,
    performance_year integer NOT NULL CHECK (performance_year BETWEEN 2000 AND 2100),
    performance_version integer NOT NULL CHECK (performance_version >= 1),
    computed_at timestamptz NOT NULL DEFAULT now(),
    sheet jsonb NOT NULL
);
