-- How many public answers each branch turned away (too many from one address within the hour,
-- or the branch's cap reached), for the round page. A count only: nothing about who.
ALTER TABLE round_branches ADD COLUMN public_refusals integer NOT NULL DEFAULT 0;
