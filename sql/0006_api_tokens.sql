-- Tokens for the JSON API (/api/v1), created and revoked by administrators. Only a SHA-256
-- hash of each token is kept; the token itself is shown once, when it is created.
CREATE TABLE api_tokens (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    token_hash bytea NOT NULL UNIQUE,
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_on date,
    revoked_at timestamptz
);
