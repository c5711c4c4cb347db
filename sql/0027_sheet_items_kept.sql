-- Each score sheet keeps what the results read of its entries (docs/scoring.md, "Tallies"): the
-- deduction items with the points lost, the bonus items with the points earned and the baseline
-- items failed, as arrays on the sheet itself, made again by the trigger below whenever its
-- entries change (saved, submitted, corrected). Results then read one row per sheet instead of
-- gathering a province's quarter of a million entries into arrays (0.3 s of 1 s).
ALTER TABLE org_sheets
    ADD COLUMN lost_items text[] NOT NULL DEFAULT '{}',
    ADD COLUMN points_lost float8[] NOT NULL DEFAULT '{}',
    ADD COLUMN earned_items text[] NOT NULL DEFAULT '{}',
    ADD COLUMN points_earned float8[] NOT NULL DEFAULT '{}',
    ADD COLUMN failed_items text[] NOT NULL DEFAULT '{}';

-- A sheet's entries gathered as it keeps them, in item order: the one definition the refresh
-- below, `kaoping tallies verify` and the results' check (`--from-responses`) all read.
CREATE FUNCTION sheet_items(sheet uuid)
RETURNS TABLE (lost_items text[], points_lost float8[], earned_items text[], points_earned float8[], failed_items text[])
LANGUAGE sql STABLE AS $body$
  SELECT coalesce(array_agg(item_key ORDER BY item_key) FILTER (WHERE points_lost IS NOT NULL), '{}'),
         coalesce(array_agg(points_lost ORDER BY item_key) FILTER (WHERE points_lost IS NOT NULL), '{}'),
         coalesce(array_agg(item_key ORDER BY item_key) FILTER (WHERE points_earned IS NOT NULL), '{}'),
         coalesce(array_agg(points_earned ORDER BY item_key) FILTER (WHERE points_earned IS NOT NULL), '{}'),
         coalesce(array_agg(item_key ORDER BY item_key) FILTER (WHERE passed = false), '{}')
  FROM org_sheet_entries WHERE sheet_id = sheet
$body$;

-- Gathers again the entries of the given sheets into their kept arrays, after locking the
-- sheets: two transactions changing one sheet's entries then gather one after the other, the
-- second seeing what the first committed.
CREATE FUNCTION refresh_sheet_items(sheets uuid[]) RETURNS void LANGUAGE plpgsql AS $body$
BEGIN
  PERFORM 1 FROM org_sheets s WHERE s.id = ANY(sheets) ORDER BY s.id FOR UPDATE;
  UPDATE org_sheets s SET (lost_items, points_lost, earned_items, points_earned, failed_items) = (
      e.lost_items, e.points_lost, e.earned_items, e.points_earned, e.failed_items)
  FROM unnest(sheets) AS k(id) CROSS JOIN LATERAL sheet_items(k.id) e
  WHERE s.id = k.id;
END
$body$;

-- The statement's changed entries are `changed`, and an update's new ones `changed_to`.
CREATE FUNCTION sheet_items_follow_entries() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    PERFORM refresh_sheet_items(ARRAY(SELECT sheet_id FROM changed UNION SELECT sheet_id FROM changed_to));
  ELSE
    PERFORM refresh_sheet_items(ARRAY(SELECT DISTINCT sheet_id FROM changed));
  END IF;
  RETURN NULL;
END
$body$;

CREATE TRIGGER sheet_items_follow_added_entries
  AFTER INSERT ON org_sheet_entries REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION sheet_items_follow_entries();
CREATE TRIGGER sheet_items_follow_changed_entries
  AFTER UPDATE ON org_sheet_entries REFERENCING OLD TABLE AS changed NEW TABLE AS changed_to
  FOR EACH STATEMENT EXECUTE FUNCTION sheet_items_follow_entries();
CREATE TRIGGER sheet_items_follow_removed_entries
  AFTER DELETE ON org_sheet_entries REFERENCING OLD TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION sheet_items_follow_entries();

-- The sheets already stored.
SELECT refresh_sheet_items(ARRAY(SELECT id FROM org_sheets));
