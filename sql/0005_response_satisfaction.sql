-- Whether a response chose a "satisfied" option (满意, 基本满意) on its form's satisfaction
-- item, decided when it is scored like the score itself; NULL when the form has no such item
-- or the answer was skipped or unscored (不了解). The satisfaction rate counts these.
ALTER TABLE responses ADD COLUMN satisfied boolean;
