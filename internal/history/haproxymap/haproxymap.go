// Package haproxymap keeps an application's history in a map of the
// HAProxy that routes it, through the Runtime API: the one place of the
// hosts platform that every CI job can reach. HAProxy holds the entries in
// memory; a reload or restart starts again from the map file on disk.
package haproxymap

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/bluegreen-dev/bluegreen-action/internal/history"
)

// ErrNoMap is returned by Check when HAProxy has no map of that name.
var ErrNoMap = errors.New("HAProxy has no such map")

// API runs Runtime API commands.
type API interface {
	Do(ctx context.Context, command string) (string, error)
}

// Store is the history of one application in one map.
type Store struct {
	api API
	// file is the map as HAProxy names it: the path of its file.
	file string
	app  string
}

var _ history.Store = (*Store)(nil)

// New returns the history of app in map file.
func New(api API, file, app string) *Store { return &Store{api: api, file: file, app: app} }

// Check proves the map exists, before any write.
func (s *Store) Check(ctx context.Context) error {
	out, err := s.api.Do(ctx, "show map")
	if err != nil {
		return err
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "("+s.file+")") {
			return nil
		}
	}
	return fmt.Errorf("%w %q: name a map file the configuration loads, e.g. http-request set-var(txn.bluegreen) str(x),map(%s)", ErrNoMap, s.file, s.file)
}

// entry is one map line of this app: the key orders entries in time.
type entry struct {
	key string
	e   history.Entry
}

func (s *Store) entries(ctx context.Context) ([]entry, error) {
	out, err := s.api.Do(ctx, "show map "+s.file)
	if err != nil {
		return nil, err
	}
	prefix := s.app + "/"
	var list []entry
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) != 3 || !strings.HasPrefix(f[1], prefix) {
			continue // another app's entry, or not an entry
		}
		raw, err := base64.RawURLEncoding.DecodeString(f[2])
		if err != nil {
			continue
		}
		var e history.Entry
		if json.Unmarshal(raw, &e) == nil {
			list = append(list, entry{key: f[1], e: e})
		}
	}
	// Newest first: keys hold the time in fixed-width nanoseconds.
	slices.SortFunc(list, func(a, b entry) int { return strings.Compare(b.key, a.key) })
	return list, nil
}

// List returns the entries, newest first.
func (s *Store) List(ctx context.Context) ([]history.Entry, error) {
	list, err := s.entries(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading history from map %q: %w", s.file, err)
	}
	out := make([]history.Entry, len(list))
	for i, e := range list {
		out[i] = e.e
	}
	return out, nil
}

// Append adds e and drops entries past history.Limit. Map values cannot
// hold spaces, so an entry is stored as base64 of its JSON.
func (s *Store) Append(ctx context.Context, e history.Entry) error {
	raw, err := json.Marshal(e)
	if err != nil {
		return err
	}
	key := fmt.Sprintf("%s/%020s", s.app, strconv.FormatInt(e.Time.UnixNano(), 10))
	cmd := fmt.Sprintf("add map %s %s %s", s.file, key, base64.RawURLEncoding.EncodeToString(raw))
	if out, err := s.api.Do(ctx, cmd); err != nil {
		return fmt.Errorf("recording history in map %q: %w", s.file, err)
	} else if strings.TrimSpace(out) != "" {
		return fmt.Errorf("recording history in map %q: HAProxy answered %q", s.file, strings.TrimSpace(out))
	}
	list, err := s.entries(ctx)
	if err != nil {
		return nil // recorded; trimming can wait for the next run
	}
	for _, old := range list[min(len(list), history.Limit):] {
		_, _ = s.api.Do(ctx, fmt.Sprintf("del map %s %s", s.file, old.key))
	}
	return nil
}
