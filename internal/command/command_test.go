package command_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bluegreen-dev/bluegreen-action/internal/command"
)

func TestTraits(t *testing.T) {
	t.Parallel()
	pick := func(f func(command.Name) bool) []command.Name {
		var out []command.Name
		for _, n := range command.All() {
			if f(n) {
				out = append(out, n)
			}
		}
		return out
	}
	cases := []struct {
		name string
		got  []command.Name
		want []command.Name
	}{
		{"Deploys", pick(command.Name.Deploys), []command.Name{"deploy", "prepare", "split"}},
		{"Standalone", pick(command.Name.Standalone), []command.Name{"promote", "verify"}},
		{"Gated", pick(command.Name.Gated), []command.Name{"deploy", "switch", "split", "rollback"}},
		{"Approval", pick(command.Name.Approval), []command.Name{"prepare", "switch", "abort"}},
	}
	for _, tc := range cases {
		if diff := cmp.Diff(tc.want, tc.got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}

func TestKnown(t *testing.T) {
	t.Parallel()
	for _, n := range command.All() {
		if !n.Known() {
			t.Errorf("%q.Known() = false", n)
		}
	}
	for _, n := range command.Recorded() {
		if !n.Known() {
			t.Errorf("recorded command %q is not known", n)
		}
	}
	for _, n := range []command.Name{"", "Deploy", "deploy ", "run"} {
		if n.Known() {
			t.Errorf("%q.Known() = true", n)
		}
	}
}
