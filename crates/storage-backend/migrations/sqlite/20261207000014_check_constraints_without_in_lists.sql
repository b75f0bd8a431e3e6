-- The status CHECK constraints of four tables were written as
-- `status IN (...)` with three to five names. SQLite checks such a list by
-- building a temporary index of the names, again for every row a statement
-- writes: a b-tree opened, filled and freed for every submission, status
-- change, workflow save or decision and review item, about a quarter of a
-- workflow create's instructions. The same test written as equalities
-- compares in place (SQLite does that by itself for lists of two names).
--
-- A CHECK constraint does not change how rows are stored, and each new
-- text accepts exactly the values the old one did, so the table
-- definitions are edited in place, by the procedure SQLite documents for
-- changing CHECK constraints (`PRAGMA writable_schema`), instead of
-- copying every table into a new one. A definition that does not read as
-- written here is left as it is.

PRAGMA writable_schema = ON;

UPDATE sqlite_schema SET sql = replace(sql,
    'CHECK (status IN (''public'', ''held'', ''rejected'', ''removed''))',
    'CHECK (status = ''public'' OR status = ''held'' OR status = ''rejected'' OR status = ''removed'')')
WHERE type = 'table' AND name = 'moderation_items';

UPDATE sqlite_schema SET sql = replace(sql,
    'CHECK (status IN (''pending'', ''approved'', ''rejected'', ''ignored'', ''deleted''))',
    'CHECK (status = ''pending'' OR status = ''approved'' OR status = ''rejected'' OR status = ''ignored'' OR status = ''deleted'')')
WHERE type = 'table' AND name = 'review_items';

UPDATE sqlite_schema SET sql = replace(sql,
    'CHECK (status IN (''pending'', ''approved'', ''rejected''))',
    'CHECK (status = ''pending'' OR status = ''approved'' OR status = ''rejected'')')
WHERE type = 'table' AND name = 'moderated_objects';

UPDATE sqlite_schema SET sql = replace(sql,
    'CHECK (status IN (''pending'', ''approved'', ''rejected'', ''superseded''))',
    'CHECK (status = ''pending'' OR status = ''approved'' OR status = ''rejected'' OR status = ''superseded'')')
WHERE type = 'table' AND name = 'moderation_entries';

-- Any schema change moves the schema cookie, which makes every other
-- connection to the file read the schema again before its next statement.
CREATE TABLE moderation_schema_cookie (bump INTEGER);
DROP TABLE moderation_schema_cookie;

-- Turns schema writing off again and makes this connection read the
-- schema again too.
PRAGMA writable_schema = RESET;
