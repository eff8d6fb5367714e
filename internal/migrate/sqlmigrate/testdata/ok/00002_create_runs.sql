-- +goose Up
CREATE TABLE runs (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    note text NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
);

-- A function body holds semicolons: goose sends it as one statement.
-- +goose StatementBegin
CREATE FUNCTION runs_count() RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    RETURN (SELECT count(*) FROM runs);
END;
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION runs_count();
DROP TABLE runs;
