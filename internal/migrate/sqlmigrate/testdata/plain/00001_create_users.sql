-- A plain SQL file without goose's Up annotation: goose would not know what to run.
CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL);
