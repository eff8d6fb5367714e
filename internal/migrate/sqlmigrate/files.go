package sqlmigrate

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pressly/goose/v3"
)

// migrationFile is one goose SQL migration of the directory.
type migrationFile struct {
	name    string // 00001_create_users.sql
	version int64
}

// readDir returns the migrations of dir ordered by version, and the .sql
// files it ignores because their names carry no version, as goose does
// (helpers, a schema dump). Every error wraps ErrInvalidDir.
//
// goose parses a file only when it is about to run it; reading every file
// here turns a file that is no goose migration into an input error before
// anything touches the database.
func readDir(dir string) (files []migrationFile, ignored []string, err error) {
	if dir == "" {
		return nil, nil, fmt.Errorf("%w: no directory given", ErrInvalidDir)
	}
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, nil, fmt.Errorf("%w: %q does not exist", ErrInvalidDir, dir)
	case err != nil:
		return nil, nil, fmt.Errorf("%w: %w", ErrInvalidDir, err)
	case !info.IsDir():
		return nil, nil, fmt.Errorf("%w: %q is not a directory", ErrInvalidDir, dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrInvalidDir, err)
	}
	byVersion := map[int64]string{}
	for _, e := range entries {
		name := e.Name()
		ext := filepath.Ext(name)
		if e.IsDir() || (ext != ".sql" && ext != ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		version, verr := goose.NumericComponent(name)
		switch {
		case verr != nil && ext == ".sql":
			ignored = append(ignored, name)
			continue
		case verr != nil:
			continue // a Go helper file: goose skips it too
		case ext == ".go":
			return nil, nil, fmt.Errorf("%w: %q in %q is a Go migration; only SQL migrations run here (Go ones need a goose binary of their own)", ErrInvalidDir, name, dir)
		}
		if other, ok := byVersion[version]; ok {
			return nil, nil, fmt.Errorf("%w: %q and %q in %q share version %d", ErrInvalidDir, other, name, dir, version)
		}
		byVersion[version] = name
		body, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %w", ErrInvalidDir, err)
		}
		if !hasUpAnnotation(body) {
			return nil, nil, fmt.Errorf(`%w: %q in %q has no "-- +goose Up" line; migrations are goose SQL files: "-- +goose Up", the statements, optionally "-- +goose Down" and the statements that undo them`, ErrInvalidDir, name, dir)
		}
		files = append(files, migrationFile{name: name, version: version})
	}
	if len(files) == 0 {
		msg := fmt.Sprintf("%q holds no migrations named VERSION_description.sql (such as 00001_create_users.sql)", dir)
		if len(ignored) > 0 {
			msg += fmt.Sprintf("; found %q", ignored)
		}
		return nil, nil, fmt.Errorf("%w: %s", ErrInvalidDir, msg)
	}
	slices.SortFunc(files, func(a, b migrationFile) int { return cmp.Compare(a.version, b.version) })
	return files, ignored, nil
}

// hasUpAnnotation reports whether body holds a "-- +goose Up" line, read as
// goose's parser reads annotations: at the start of the line, any case.
func hasUpAnnotation(body []byte) bool {
	for line := range strings.Lines(string(body)) {
		if !strings.HasPrefix(line, "--") || !strings.Contains(line, "+goose") {
			continue
		}
		cmd := strings.Replace(strings.ReplaceAll(line, "--", ""), "+goose", "", 1)
		if strings.EqualFold(strings.TrimSpace(cmd), "up") {
			return true
		}
	}
	return false
}
