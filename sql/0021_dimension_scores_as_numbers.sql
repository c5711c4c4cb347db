-- A response's dimension scores as numbers in the order of its form's dimensions, instead of a
-- JSON object: the results then sum them per branch in the database, without reading a
-- document per response (docs/performance.md, "Aggregation from the database"). NULL where
-- the response scored no item of a dimension. The order is the one the stored form definition
-- lists its dimensions in, which is also the one the mixer writes from now on.
ALTER TABLE responses ADD COLUMN dimension_values float8[] NOT NULL DEFAULT '{}';
UPDATE responses r SET dimension_values = (
    SELECT coalesce(array_agg((r.dimension_scores ->> (d.dimension ->> 'key'))::float8 ORDER BY d.position), '{}')
    FROM form_versions f,
         jsonb_array_elements(coalesce(f.definition -> 'dimensions', '[]'::jsonb)) WITH ORDINALITY AS d(dimension, position)
    WHERE f.id = r.form_version_id
)
WHERE r.dimension_scores <> '{}'::jsonb;
ALTER TABLE responses DROP COLUMN dimension_scores;
ALTER TABLE responses RENAME COLUMN dimension_values TO dimension_scores;
