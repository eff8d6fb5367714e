// Package pgtest gives integration tests a database of their own on the
// test PostgreSQL: the one scripts/postgres-local starts, or any server
// named by BLUEGREEN_TEST_DATABASE_URL whose user may create databases.
package pgtest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

const (
	envDatabaseURL = "BLUEGREEN_TEST_DATABASE_URL"
	envIntegration = "BLUEGREEN_INTEGRATION" // "1": a missing server fails the test
	localEnvFile   = ".postgres-local/env"
	notRunning     = "local PostgreSQL not running; scripts/postgres-local up"
	cleanupTimeout = 30 * time.Second
)

// AdminURL returns the server's URL from the environment, or from the env
// file scripts/postgres-local writes. It skips the test when there is
// none, or fails it when BLUEGREEN_INTEGRATION=1.
func AdminURL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv(envDatabaseURL); u != "" {
		return u
	}
	u, err := readEnvFile()
	if err != nil {
		t.Fatalf("reading %s: %v", localEnvFile, err)
	}
	if u == "" {
		if os.Getenv(envIntegration) == "1" {
			t.Fatalf("%s (%s=1 requires PostgreSQL)", notRunning, envIntegration)
		}
		t.Skip(notRunning)
	}
	return u
}

// readEnvFile returns BLUEGREEN_TEST_DATABASE_URL from .postgres-local/env
// at the module root, or "" when there is no such file.
func readEnvFile() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", nil // not inside the module: nothing to find
		}
		dir = parent
	}
	f, err := os.Open(filepath.Join(dir, localEnvFile))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	} else if err != nil {
		return "", err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), envDatabaseURL+"="); ok {
			return v, nil
		}
	}
	return "", s.Err()
}

// DB is a database of its own for one test, dropped when the test ends.
type DB struct {
	URL      string
	Password string
}

// Database creates a database for t.
func Database(t testing.TB) DB {
	t.Helper()
	admin := AdminURL(t)
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	name := "bg_test_" + hex.EncodeToString(b)
	conn, err := pgx.Connect(t.Context(), admin)
	if err != nil {
		t.Fatalf("connecting to the test server: %v", err)
	}
	_, err = conn.Exec(t.Context(), "CREATE DATABASE "+name)
	conn.Close(context.Background())
	if err != nil {
		t.Fatalf("creating database %s: %v", name, err)
	}
	t.Cleanup(func() {
		// t.Context() is already cancelled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("connecting to drop %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		// FORCE: a session a failed test left open must not keep the database.
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("dropping %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("parsing %s: %v", envDatabaseURL, err)
	}
	u.Path = "/" + name
	pw, _ := u.User.Password()
	return DB{URL: u.String(), Password: pw}
}
