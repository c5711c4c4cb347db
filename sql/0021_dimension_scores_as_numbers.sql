-- A response's dimension scores as numbers in the order of its form's dimensions, instead of a
-- JSON object: the results then sum them per branch in the database, without reading a
-- document per response (docs/performance.md, "Aggregation from the database"). NULL where
-- the response scored no item of a dimension.
--
-- One function turns the object into the array, for the rows stored so far and for every
-- batch the mixer writes from now on, so the order has one definition: the form's own.
CREATE FUNCTION dimension_values(scores jsonb, form_definition jsonb) RETURNS float8[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg((scores ->> (d.dimension ->> 'key'))::float8 ORDER BY d.position), '{}')
    FROM jsonb_array_elements(coalesce(form_definition -> 'dimensions', '[]'::jsonb)) WITH ORDINALITY AS d(dimension, position)
$$;

ALTER TABLE responses ADD COLUMN dimension_values float8[] NOT NULL DEFAULT '{}';
UPDATE responses r SET dimension_values = dimension_values(r.dimension_scores, f.definition)
FROM form_versions f
WHERE f.id = r.form_version_id AND r.dimension_scores <> '{}'::jsonb;
ALTER TABLE responses DROP COLUMN dimension_scores;
ALTER TABLE responses RENAME COLUMN dimension_values TO dimension_scores;
