-- When the mixer last moved a round's ballots into the responses. Each mix also touches every
-- used invitation of the round (docs/privacy.md), which costs in proportion to the round's
-- size, so a busy round is mixed at a steady pace rather than every second.
ALTER TABLE rounds ADD COLUMN last_mixed_at timestamptz;
