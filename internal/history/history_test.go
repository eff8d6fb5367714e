package history_test

import (
	"testing"

	"github.com/bluegreen-dev/bluegreen-action/internal/history"
)

func TestPrepared(t *testing.T) {
	t.Parallel()
	prepared := history.Entry{Command: "prepare", Image: "shop:2", Result: history.ResultPrepared}
	cases := []struct {
		name    string
		entries []history.Entry // newest first
		want    string          // image of the prepared release, "" for none
	}{
		{name: "empty history"},
		{name: "deploys only", entries: []history.Entry{{Command: "deploy", Result: "success"}}},
		{name: "prepared", entries: []history.Entry{prepared, {Command: "deploy", Result: "success"}}, want: "shop:2"},
		{name: "switched", entries: []history.Entry{{Command: "switch", Result: "success"}, prepared}},
		{name: "a failed switch keeps it", entries: []history.Entry{{Command: "switch", Result: "rolled-back"}, prepared}, want: "shop:2"},
		{name: "aborted", entries: []history.Entry{{Command: "abort", Result: history.ResultAborted}, prepared}},
		{name: "a failed abort keeps it", entries: []history.Entry{{Command: "abort", Result: "failed"}, prepared}, want: "shop:2"},
		{name: "a later failed prepare replaced it", entries: []history.Entry{{Command: "prepare", Image: "shop:3", Result: "failed"}, prepared}},
		{name: "the newest prepare wins", entries: []history.Entry{{Command: "prepare", Image: "shop:3", Result: history.ResultPrepared}, prepared}, want: "shop:3"},
		// A deploy or rollback in between is left to the checks against
		// the live system: the color no longer runs what was prepared.
		{name: "a deploy since", entries: []history.Entry{{Command: "deploy", Result: "success"}, prepared}, want: "shop:2"},
	}
	for _, tc := range cases {
		got := history.Prepared(tc.entries)
		image := ""
		if got != nil {
			image = got.Image
		}
		if image != tc.want {
			t.Errorf("%s: Prepared = %q, want %q", tc.name, image, tc.want)
		}
	}
}
