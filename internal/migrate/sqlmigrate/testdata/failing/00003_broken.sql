-- +goose Up
CREATE TABLE audit (note text NOT NULL);
-- A typo: the whole migration rolls back, audit included.
CREATE TABEL broken (id int);

-- +goose Down
DROP TABLE audit;
