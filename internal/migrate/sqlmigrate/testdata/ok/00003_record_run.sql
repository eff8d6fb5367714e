-- +goose Up
-- Exactly one row however many runs start at once: the migration lock
-- lets one of them apply this file, and the others find it recorded.
INSERT INTO runs (note) VALUES ('migrated');
-- Long enough for concurrent runs to queue on the lock.
SELECT pg_sleep(0.2);

-- +goose Down
DELETE FROM runs WHERE note = 'migrated';
