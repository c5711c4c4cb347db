-- A code short enough to type from a printed slip (ten characters), for members who would
-- rather not scan. Like the token it is derived from the secret and the invitation's id, and
-- only its hash is stored: filled in when the slips are printed.
ALTER TABLE invitations ADD COLUMN short_code_hash bytea;
CREATE UNIQUE INDEX invitations_short_code ON invitations (short_code_hash) WHERE short_code_hash IS NOT NULL;
