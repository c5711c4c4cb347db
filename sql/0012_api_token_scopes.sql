-- What an API token may do: read (the rounds, results, integrated sheets and branch records)
-- or also write (post performance results). Existing tokens stay read-only.
ALTER TABLE api_tokens ADD COLUMN scope text NOT NULL DEFAULT 'read' CHECK (scope IN ('read', 'write'));
