-- Each branch's final result in each closed round, one row per branch and round, so that a
-- branch's record over the years and the committee's lists read a few rows by index instead of
-- searching every round's whole snapshot (a province's is tens of megabytes). Written from the
-- final snapshot when a round closes (and here for the rounds closed before); the business
-- score is the frozen integrated sheet's, set when the sheet is frozen.
CREATE TABLE branch_years (
    round_id uuid NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
    branch_code text NOT NULL,
    year integer NOT NULL,
    subject jsonb NOT NULL,
    ranked integer NOT NULL,
    business_score double precision,
    PRIMARY KEY (round_id, branch_code)
);
CREATE INDEX branch_years_code ON branch_years (branch_code, year);

WITH counted AS (
    SELECT s.round_id, count(*) FILTER (WHERE jsonb_typeof(y -> 'rank') = 'number')::int AS ranked
    FROM result_snapshots s, jsonb_array_elements(s.results -> 'subjects') y
    WHERE s.kind = 'final' GROUP BY s.round_id
), business AS (
    SELECT i.round_id, b ->> 'code' AS code, (b ->> 'businessScore')::float8 AS score
    FROM integrated_sheets i, jsonb_array_elements(i.sheet -> 'branches') b
)
INSERT INTO branch_years (round_id, branch_code, year, subject, ranked, business_score)
SELECT s.round_id, x.subject ->> 'code', r.year, x.subject, c.ranked, bs.score
FROM result_snapshots s
JOIN rounds r ON r.id = s.round_id
JOIN counted c ON c.round_id = s.round_id
CROSS JOIN jsonb_array_elements(s.results -> 'subjects') AS x(subject)
LEFT JOIN business bs ON bs.round_id = s.round_id AND bs.code = x.subject ->> 'code'
WHERE s.kind = 'final';
