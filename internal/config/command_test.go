package config_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bluegreen-dev/bluegreen-action/internal/config"
)

func TestCommandDecode(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{in: "", want: nil},
		{in: "bin/migrate up", want: []string{"bin/migrate", "up"}},
		{in: "  rails   db:migrate\n", want: []string{"rails", "db:migrate"}},
		{in: `psql -c "select 1; select 2"`, want: []string{"psql", "-c", "select 1; select 2"}},
		{in: `echo 'it''s'`, want: []string{"echo", "its"}},
		{in: `echo ""`, want: []string{"echo", ""}},
		{in: `["bin/migrate", "up --all"]`, want: []string{"bin/migrate", "up --all"}},
		{in: `["bin/migrate",`, wantErr: true},
		{in: `[]`, wantErr: true},
		{in: `echo "unclosed`, wantErr: true},
	}
	for _, tc := range cases {
		var c config.Command
		err := c.EnvDecode(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("EnvDecode(%q) error = %v, want error %v", tc.in, err, tc.wantErr)
			continue
		}
		if diff := cmp.Diff(tc.want, []string(c)); !tc.wantErr && diff != "" {
			t.Errorf("EnvDecode(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}
