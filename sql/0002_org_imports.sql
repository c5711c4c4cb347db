-- Uploaded branch and member lists between preview and confirmation. The file itself is kept,
-- so that what is confirmed is exactly what was previewed.
CREATE TABLE org_imports (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind text NOT NULL CHECK (kind IN ('branches', 'members')),
    file_name text NOT NULL DEFAULT '',
    content bytea NOT NULL,
    uploaded_by uuid REFERENCES users (id) ON DELETE SET NULL,
    uploaded_at timestamptz NOT NULL DEFAULT now(),
    applied_at timestamptz
);
CREATE INDEX org_imports_uploaded ON org_imports (uploaded_at);

-- Organisations are found by name when branch lists name their parent.
CREATE UNIQUE INDEX organisations_name ON organisations (name);
