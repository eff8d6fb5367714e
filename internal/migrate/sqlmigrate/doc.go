// Package sqlmigrate applies SQL migration files to a PostgreSQL database
// from the deploy itself, for teams whose CI can reach the database: the
// inputs migrations-dir and database-url.
//
// The files are goose SQL migrations: each is named VERSION_description.sql
// (00001_create_users.sql) and starts its forward statements with a
// "-- +goose Up" line, optionally followed by "-- +goose Down" and the
// statements that undo them. Plain numbered .sql files without that line
// are refused when the Migrator is built, not half-way through a deploy.
// Versions are applied in order and recorded in goose's version table
// (goose_db_version), so the goose CLI reads the same history.
//
// Apply holds a PostgreSQL advisory lock while it migrates, so two runs
// never migrate at once: the second waits (5 minutes by default), then
// finds nothing left to do. Each migration runs in its own transaction
// (unless the file says "-- +goose NO TRANSACTION"); when one fails, the
// ones before it stay applied and recorded, and the error names the file.
// A dry run lists the pending migrations without changing the database,
// not even by creating the version table.
//
// The database URL is a credential. New masks it, and its password, before
// anything else, and no error or log line of this package carries the
// password, even where pgx or goose would echo it.
//
// Why goose and not golang-migrate: goose v3's Provider takes an fs.FS and
// a *sql.DB of our own (so the pgx driver, its TLS settings and the lock
// connection stay ours), reports each migration's result and duration and,
// on failure, which file failed and which were applied before it, and
// records every version as a row that a read-only dry run can compare with
// the files. golang-migrate keeps a single version with a "dirty" flag that
// a failed migration leaves set until someone forces it by hand, and gives
// no way to list pending migrations.
package sqlmigrate
