package modes

import (
	"errors"
	"strings"
	"testing"

	"github.com/bluegreen-dev/bluegreen-action/internal/config"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
	"github.com/bluegreen-dev/bluegreen-action/internal/report/plain"
)

// TestFailPlain: outside GitHub Actions an error goes to stderr once, one
// line per problem, each prefixed so that none can pass for a workflow
// command, and the exit status tells a bad input from a failed run.
func TestFailPlain(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		err  error
		code int
		want string
	}{
		{
			name: "two bad inputs",
			err:  errors.Join(config.Errorf("app", "is required"), config.Errorf("image", "%q is not an image reference", "x y")),
			code: ExitInput,
			want: "bluegreen: input \"app\": is required\nbluegreen: input \"image\": \"x y\" is not an image reference\n",
		},
		{
			name: "a server's answer with line breaks",
			err:  errors.New("reading the route: \r::error::forged\r\n::warning::too"),
			code: ExitFailed,
			want: "bluegreen: reading the route: \nbluegreen: ::error::forged\nbluegreen: ::warning::too\n",
		},
	}
	for _, tc := range cases {
		var stdout, stderr strings.Builder
		s := sink{rep: plain.New(&stdout), stderr: &stderr}
		if got := s.fail(report.Result{Command: "deploy"}, tc.err); got != tc.code {
			t.Errorf("%s: exit status %d, want %d", tc.name, got, tc.code)
		}
		if got := stderr.String(); got != tc.want {
			t.Errorf("%s: stderr\n%q, want\n%q", tc.name, got, tc.want)
		}
		if !strings.Contains(stdout.String(), "bluegreen deploy: failed") {
			t.Errorf("%s: the report does not say the run failed:\n%s", tc.name, stdout.String())
		}
	}
}

// TestErrorLines: only a joined input error is split, one annotation per
// input; any other error is one message.
func TestErrorLines(t *testing.T) {
	t.Parallel()
	joined := errors.Join(config.Errorf("app", "is required"), config.Errorf("wait-timeout", "must be more than 0"))
	if got := errorLines(joined); len(got) != 2 {
		t.Errorf("errorLines(two input errors) = %q, want 2 lines", got)
	}
	other := errors.Join(errors.New("deploying green"), errors.New("reverting"))
	if got := errorLines(other); len(got) != 1 {
		t.Errorf("errorLines(a joined run error) = %q, want 1 line", got)
	}
}
