-- Each branch's tally of each rater group's responses in a round: the counts, exact sums and
-- extreme values the scoring method reads (docs/scoring.md, "Tallies"), so that results read one
-- row per branch and group instead of aggregating every response. Kept by the triggers below in
-- the transaction that changes the responses (the mix, an exclusion, a deletion), by aggregating
-- again the responses of each branch and group the statement touched: the same expressions as
-- the reading of the responses themselves (TallyQuery), so the same values, extremes included.
--
-- Sums are in fixed steps: 1e9 per point for the means, 1e7 for the spread (its squares as
-- numeric, past 64 bits). The three lowest and highest values of each measure are kept (the
-- round's trimming reads as many as it drops; a round that drops more reads the responses).
-- Dimension extremes are flattened three to a dimension, padded with NaN (no score is NaN).
CREATE TABLE response_tallies (
    round_id uuid NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
    rater_group text NOT NULL,
    branch_id uuid NOT NULL REFERENCES branches (id) ON DELETE CASCADE,
    responses int NOT NULL,
    straight_lined int NOT NULL,
    satisfied int NOT NULL,
    satisfaction_answered int NOT NULL,
    score_count int NOT NULL,
    score_sum int8 NOT NULL,
    score_spread_sum int8 NOT NULL,
    score_spread_squares numeric NOT NULL,
    score_lowest float8[] NOT NULL,
    score_highest float8[] NOT NULL,
    dimension_count int[] NOT NULL,
    dimension_sum int8[] NOT NULL,
    dimension_lowest float8[] NOT NULL,
    dimension_highest float8[] NOT NULL,
    PRIMARY KEY (round_id, rater_group, branch_id)
);

-- Aggregates again the live (not excluded) responses of the given rounds, branches and groups
-- (three arrays of the same length) into their tallies.
CREATE FUNCTION refresh_response_tallies(rounds uuid[], branches uuid[], groups text[]) RETURNS void LANGUAGE plpgsql AS $body$
BEGIN
  -- Wait for any other transaction changing the same tallies (an exclusion beside a mix), so that
  -- the responses read next include what it committed.
  PERFORM 1 FROM response_tallies t
    JOIN unnest(rounds, branches, groups) AS k(round_id, branch_id, rater_group)
      ON t.round_id = k.round_id AND t.branch_id = k.branch_id AND t.rater_group = k.rater_group
    ORDER BY t.round_id, t.rater_group, t.branch_id
    FOR UPDATE OF t;
  DELETE FROM response_tallies t
    USING unnest(rounds, branches, groups) AS k(round_id, branch_id, rater_group)
    WHERE t.round_id = k.round_id AND t.branch_id = k.branch_id AND t.rater_group = k.rater_group;
  INSERT INTO response_tallies
  WITH keys AS (
    SELECT DISTINCT * FROM unnest(rounds, branches, groups) AS k(round_id, branch_id, rater_group)
  ), live AS MATERIALIZED (
    SELECT r.round_id, r.rater_group, r.branch_id, r.score, r.dimension_scores, r.straight_lined, r.satisfied
    FROM responses r JOIN keys k ON r.round_id = k.round_id AND r.branch_id = k.branch_id AND r.rater_group = k.rater_group
    WHERE r.excluded_by IS NULL
  ), per_dimension AS (
    SELECT l.round_id, l.rater_group, l.branch_id, d.position,
           count(d.value)::int AS n,
           coalesce(sum((d.value * 1000000000::float8)::int8), 0)::int8 AS steps,
           ((array_agg(d.value ORDER BY d.value) FILTER (WHERE d.value IS NOT NULL)) || array_fill('NaN'::float8, ARRAY[3]))[1:3] AS lowest,
           ((array_agg(d.value ORDER BY d.value DESC) FILTER (WHERE d.value IS NOT NULL)) || array_fill('NaN'::float8, ARRAY[3]))[1:3] AS highest
    -- A NaN is no score (a statement may write one on its way to NULL).
    FROM live l CROSS JOIN LATERAL (SELECT nullif(u.value, 'NaN') AS value, u.position FROM unnest(l.dimension_scores) WITH ORDINALITY AS u(value, position)) d
    GROUP BY 1, 2, 3, 4
  ), dimensions AS (
    SELECT round_id, rater_group, branch_id,
           array_agg(n ORDER BY position) AS n,
           array_agg(steps ORDER BY position) AS steps,
           ARRAY(SELECT unnest(array_agg(lowest ORDER BY position))) AS lowest,
           ARRAY(SELECT unnest(array_agg(highest ORDER BY position))) AS highest
    FROM per_dimension GROUP BY 1, 2, 3
  ), scores AS (
    SELECT round_id, rater_group, branch_id,
           count(*)::int AS responses,
           (count(*) FILTER (WHERE straight_lined))::int AS straight_lined,
           (count(*) FILTER (WHERE satisfied))::int AS satisfied,
           count(satisfied)::int AS satisfaction_answered,
           count(score)::int AS score_count,
           coalesce(sum((score * 1000000000::float8)::int8), 0)::int8 AS score_sum,
           coalesce(sum((score * 10000000::float8)::int8), 0)::int8 AS score_spread_sum,
           coalesce(sum((score * 10000000::float8)::int8 * (score * 10000000::float8)::int8), 0)::numeric AS score_spread_squares,
           coalesce((array_agg(score ORDER BY score) FILTER (WHERE score IS NOT NULL))[1:3], '{}') AS score_lowest,
           coalesce((array_agg(score ORDER BY score DESC) FILTER (WHERE score IS NOT NULL))[1:3], '{}') AS score_highest
    FROM live GROUP BY 1, 2, 3
  )
  SELECT s.round_id, s.rater_group, s.branch_id, s.responses, s.straight_lined, s.satisfied, s.satisfaction_answered,
         s.score_count, s.score_sum, s.score_spread_sum, s.score_spread_squares, s.score_lowest, s.score_highest,
         coalesce(d.n, '{}'), coalesce(d.steps, '{}'), coalesce(d.lowest, '{}'), coalesce(d.highest, '{}')
  FROM scores s LEFT JOIN dimensions d ON d.round_id = s.round_id AND d.rater_group = s.rater_group AND d.branch_id = s.branch_id;
END
$body$;

CREATE FUNCTION tallies_follow_added_responses() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
  PERFORM refresh_response_tallies(array_agg(round_id), array_agg(branch_id), array_agg(rater_group))
    FROM (SELECT DISTINCT round_id, branch_id, rater_group FROM added) k;
  RETURN NULL;
END
$body$;

CREATE FUNCTION tallies_follow_changed_responses() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
  PERFORM refresh_response_tallies(array_agg(round_id), array_agg(branch_id), array_agg(rater_group))
    FROM (SELECT round_id, branch_id, rater_group FROM before UNION SELECT round_id, branch_id, rater_group FROM after) k;
  RETURN NULL;
END
$body$;

CREATE FUNCTION tallies_follow_removed_responses() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
  PERFORM refresh_response_tallies(array_agg(round_id), array_agg(branch_id), array_agg(rater_group))
    FROM (SELECT DISTINCT round_id, branch_id, rater_group FROM removed) k;
  RETURN NULL;
END
$body$;

CREATE TRIGGER tallies_follow_added_responses
  AFTER INSERT ON responses REFERENCING NEW TABLE AS added
  FOR EACH STATEMENT EXECUTE FUNCTION tallies_follow_added_responses();
CREATE TRIGGER tallies_follow_changed_responses
  AFTER UPDATE ON responses REFERENCING OLD TABLE AS before NEW TABLE AS after
  FOR EACH STATEMENT EXECUTE FUNCTION tallies_follow_changed_responses();
CREATE TRIGGER tallies_follow_removed_responses
  AFTER DELETE ON responses REFERENCING OLD TABLE AS removed
  FOR EACH STATEMENT EXECUTE FUNCTION tallies_follow_removed_responses();

-- The responses already stored.
SELECT refresh_response_tallies(array_agg(round_id), array_agg(branch_id), array_agg(rater_group))
FROM (SELECT DISTINCT round_id, branch_id, rater_group FROM responses) k;
