-- An invitation records only whether it was used, not when: even a date could be matched
-- against the dates of the responses when few people answer on a given day.
ALTER TABLE invitations ADD COLUMN used boolean NOT NULL DEFAULT false;
ALTER TABLE invitations DROP COLUMN used_on;
CREATE INDEX invitations_round_branch ON invitations (round_id, branch_id);
