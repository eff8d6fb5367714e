package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestVerifyCommand checks command verify as any CI or hook runs it: exit
// 0 when the URL answers as asked, 1 when it does not within the timeout,
// 2 when no URL is given.
func TestVerifyCommand(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer s3cret-token" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(`{"status": "ok"}`))
	}))
	defer srv.Close()
	cases := []struct {
		name   string
		env    env
		code   int
		stderr string
	}{
		{"passes", env{"BLUEGREEN_VERIFY_URL": srv.URL, "BLUEGREEN_VERIFY_BODY": `/"status":\s*"ok"/`,
			"BLUEGREEN_VERIFY_HEADERS": "Authorization: Bearer s3cret-token"}, exitOK, ""},
		{"wrong body", env{"BLUEGREEN_VERIFY_URL": srv.URL, "BLUEGREEN_VERIFY_BODY": "degraded", "BLUEGREEN_VERIFY_TIMEOUT": "200ms",
			"BLUEGREEN_VERIFY_HEADERS": "Authorization: Bearer s3cret-token"}, exitFailed, `want a body containing "degraded"`},
		{"wrong status", env{"BLUEGREEN_VERIFY_URL": srv.URL, "BLUEGREEN_VERIFY_TIMEOUT": "200ms"}, exitFailed, "401"},
		{"no url", env{"BLUEGREEN_COMMAND": "verify"}, exitInput, `input "verify-url": is required by command verify`},
		{"bad status input", env{"BLUEGREEN_VERIFY_URL": srv.URL, "BLUEGREEN_VERIFY_STATUS": "twohundred"}, exitInput, `input "verify-status"`},
	}
	for _, tc := range cases {
		code, stdout, stderr := runMain(t, []string{"verify"}, tc.env)
		if code != tc.code {
			t.Errorf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", tc.name, code, tc.code, stdout, stderr)
		}
		if tc.stderr != "" && !strings.Contains(stderr, tc.stderr) {
			t.Errorf("%s: stderr lacks %q:\n%s", tc.name, tc.stderr, stderr)
		}
		if strings.Contains(stdout+stderr, "s3cret-token") {
			t.Errorf("%s: a header value reached the output", tc.name)
		}
	}
}
