-- How the public of a branch answers in a round: through the open link on the poster, through
-- one-time visit codes handed out at the service window (as the government's 好差评 system
-- gives each person served a code), or both.
ALTER TABLE round_branches ADD COLUMN public_access text NOT NULL DEFAULT 'link'
    CHECK (public_access IN ('link', 'codes', 'both'));

-- One-time visit codes: printed in numbered batches per branch, handed to whoever is served,
-- tied to no one. Only a hash of each code is kept; the code itself is derived from the server
-- secret and the id, so that a batch can be printed again. A used code records only that it
-- was used: the answer goes into the ballot box like every other.
CREATE TABLE visit_codes (
    id uuid PRIMARY KEY,
    round_id uuid NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
    branch_id uuid NOT NULL REFERENCES branches (id) ON DELETE RESTRICT,
    batch integer NOT NULL,
    code_hash bytea NOT NULL UNIQUE,
    used boolean NOT NULL DEFAULT false
);
CREATE INDEX visit_codes_batch ON visit_codes (round_id, branch_id, batch);
