-- Accounts an administrator creates or resets in the browser get a one-time password, handed
-- over on paper; the person must choose their own at the first sign-in.
ALTER TABLE users ADD COLUMN must_change_password boolean NOT NULL DEFAULT false;
