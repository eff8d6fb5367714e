package haproxy

import (
	"context"
	"encoding/csv"
	"fmt"
	"slices"
	"strings"
)

// persistence is a backend's cookie persistence as HAProxy runs it: the
// cookie's name ("" when the backend has none) and each server's value.
type persistence struct {
	name    string
	servers map[string]string
}

// cookies reads the backend's cookie persistence from "show stat", whose
// cookie column holds the cookie's name on the BACKEND row and each
// server's value on its row. The configuration file is not needed.
func (r *Router) cookies(ctx context.Context) (persistence, error) {
	// Type 6: the backend and its servers, not a frontend of that name.
	out, err := r.api.Do(ctx, "show stat "+r.backend+" 6 -1")
	if err != nil {
		return persistence{}, err
	}
	if strings.HasPrefix(strings.TrimSpace(out), "No such proxy") {
		return persistence{}, fmt.Errorf("%w: HAProxy has no backend %q", ErrNoBackend, r.backend)
	}
	p, err := parseStatCookies(out)
	if err != nil {
		return persistence{}, fmt.Errorf("reading the cookie persistence of backend %q: %w", r.backend, err)
	}
	return p, nil
}

func parseStatCookies(out string) (persistence, error) {
	rd := csv.NewReader(strings.NewReader(strings.TrimPrefix(strings.TrimSpace(out), "# ")))
	rd.FieldsPerRecord, rd.LazyQuotes = -1, true
	rows, err := rd.ReadAll()
	if err != nil || len(rows) < 1 {
		return persistence{}, fmt.Errorf("unexpected answer %q", firstLine(out))
	}
	col := func(name string) int { return slices.Index(rows[0], name) }
	sv, ck := col("svname"), col("cookie")
	if sv < 0 || ck < 0 {
		return persistence{}, fmt.Errorf("the answer has no columns svname and cookie")
	}
	p := persistence{servers: map[string]string{}}
	for _, row := range rows[1:] {
		if len(row) <= max(sv, ck) || row[sv] == "" {
			continue
		}
		if row[sv] == "BACKEND" {
			p.name = row[ck]
		} else {
			p.servers[row[sv]] = row[ck]
		}
	}
	return p, nil
}
