package kubejob

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOutputKeepsTheLastLines(t *testing.T) {
	t.Parallel()
	var logged []string
	o := newOutput(func(s string) { logged = append(logged, s) }, 3)
	o.say("started")
	for i := range 5 {
		o.line(fmt.Sprintf("line %d", i))
	}
	if diff := cmp.Diff([]string{"line 2", "line 3", "line 4"}, o.last()); diff != "" {
		t.Errorf("tail (-want +got):\n%s", diff)
	}
	if got, want := len(logged), 6; got != want {
		t.Errorf("%d lines logged, want %d", got, want)
	}
}

func TestFailedErrorMessage(t *testing.T) {
	t.Parallel()
	code := int32(1)
	cases := []struct {
		name string
		err  *FailedError
		want string
	}{
		{
			name: "exit code and tail",
			err: &FailedError{Job: "shop-migrate-before-x7k2p", Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit",
				Pod: "shop-migrate-before-x7k2p-abcde", Container: "web", ExitCode: &code, State: "Error", Tail: []string{"== 20250101 AddIndex: migrating", "PG::DuplicateTable"}},
			want: `migration Job "shop-migrate-before-x7k2p" failed (BackoffLimitExceeded: Job has reached the specified backoff limit): ` +
				`container "web" of pod "shop-migrate-before-x7k2p-abcde" exited with code 1 (Error); last 2 lines of output:` +
				"\n  | == 20250101 AddIndex: migrating\n  | PG::DuplicateTable",
		},
		{
			name: "never started, no logs",
			err: &FailedError{Job: "shop-migrate-after-q", Reason: "DeadlineExceeded", Message: "Job was active longer than specified deadline",
				Pod: "shop-migrate-after-q-1", Container: "web", State: "ImagePullBackOff: back-off pulling image", LogsError: errors.New("container is waiting to start")},
			want: `migration Job "shop-migrate-after-q" failed (DeadlineExceeded: Job was active longer than specified deadline): ` +
				`container "web" of pod "shop-migrate-after-q-1" did not run to an end (ImagePullBackOff: back-off pulling image); logs not available: container is waiting to start`,
		},
	}
	for _, tc := range cases {
		if diff := cmp.Diff(tc.want, tc.err.Error()); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}
