-- Unit lists and performance results are uploaded in the admin area the way branch and member
-- lists are: kept between preview and confirmation. A performance file is for one year.
ALTER TABLE org_imports DROP CONSTRAINT org_imports_kind_check;
ALTER TABLE org_imports ADD CONSTRAINT org_imports_kind_check CHECK (kind IN ('branches', 'members', 'units', 'performance'));
ALTER TABLE org_imports ADD COLUMN year integer CHECK (year IS NULL OR year BETWEEN 2000 AND 2100);
ALTER TABLE org_imports ADD CONSTRAINT org_imports_performance_year CHECK (kind <> 'performance' OR year IS NOT NULL);
