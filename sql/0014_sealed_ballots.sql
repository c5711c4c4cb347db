-- A waiting ballot is stored sealed (AES-GCM under a key derived from the server's secret
-- file, which is not in the database), so that the transaction that burns an invitation
-- writes only ciphertext beside it, in the table and in the write-ahead log. Ballots that
-- were waiting in plaintext when this migration ran are still moved by the mixer.
ALTER TABLE ballot_box ADD COLUMN sealed bytea;
ALTER TABLE ballot_box ALTER COLUMN ballot DROP NOT NULL;
ALTER TABLE ballot_box ADD CONSTRAINT ballot_box_one_form CHECK ((ballot IS NULL) <> (sealed IS NULL));
