-- A draft may hold a value that cannot be stored as an entry yet (40 where 10 is the most, a
-- word where a number goes). It is saved with the draft as typed, shown again with the problem
-- marked, and cleared when the sheet is saved without problems.
ALTER TABLE org_sheets ADD COLUMN draft_values jsonb;
