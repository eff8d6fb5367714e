-- +goose Up
CREATE TABLE never_created (id int);

-- +goose Down
DROP TABLE never_created;
