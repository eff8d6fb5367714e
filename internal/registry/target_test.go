package registry_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bluegreen-dev/bluegreen-action/internal/registry"
)

func TestParseTarget(t *testing.T) {
	t.Parallel()
	const host = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
	cases := []struct {
		name      string
		repo      string
		region    string
		account   string
		want      registry.Target
		wantRef   string
		wantError string
	}{
		{
			name: "name alone", repo: "shop", region: "eu-west-1",
			want:    registry.Target{Region: "eu-west-1", Repository: "shop"},
			wantRef: "default.example/shop",
		},
		{
			name: "name with account", repo: "team/shop", region: "eu-west-1", account: "123456789012",
			want:    registry.Target{Host: host, Account: "123456789012", Region: "eu-west-1", Repository: "team/shop"},
			wantRef: host + "/team/shop",
		},
		{
			name: "china", repo: "shop", region: "cn-north-1", account: "123456789012",
			want: registry.Target{Host: "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", Account: "123456789012", Region: "cn-north-1", Repository: "shop"},
		},
		{
			name: "full URI", repo: host + "/team/shop", region: "eu-west-1",
			want:    registry.Target{Host: host, Account: "123456789012", Region: "eu-west-1", Repository: "team/shop"},
			wantRef: host + "/team/shop",
		},
		{
			name: "full URI of another account", repo: "210987654321.dkr.ecr.eu-west-1.amazonaws.com/shop", region: "eu-west-1", account: "123456789012",
			want: registry.Target{Host: "210987654321.dkr.ecr.eu-west-1.amazonaws.com", Account: "210987654321", Region: "eu-west-1", Repository: "shop"},
		},
		{
			name: "dual-stack URI", repo: "123456789012.dkr-ecr.eu-west-1.on.aws/shop",
			want: registry.Target{Host: "123456789012.dkr-ecr.eu-west-1.on.aws", Account: "123456789012", Region: "eu-west-1", Repository: "shop"},
		},
		{name: "separators", repo: "ab_c-d/e.f_g-h", want: registry.Target{Repository: "ab_c-d/e.f_g-h"}},
		{name: "double separator", repo: "ab/c__d", wantError: `invalid ECR repository name "ab/c__d"`},
		// As in Docker references, a dotted first element is a registry.
		{name: "dotted first element", repo: "team.a/shop", wantError: `names the registry "team.a", which is not an ECR registry`},
		{name: "empty", repo: "", wantError: "no ECR repository"},
		{name: "one character", repo: "a", wantError: `invalid ECR repository name "a": must be 2 to 256 characters long, not 1`},
		{name: "too long", repo: strings.Repeat("a", 257), wantError: "must be 2 to 256 characters long, not 257"},
		{name: "upper case", repo: "Shop", wantError: `invalid ECR repository name "Shop": use lowercase letters`},
		{name: "leading slash", repo: "/shop", wantError: `invalid ECR repository name "/shop"`},
		{name: "trailing separator", repo: "shop-", wantError: `invalid ECR repository name "shop-"`},
		{name: "tag", repo: "shop:1.4", wantError: `ECR repository "shop:1.4" must not include a tag`},
		{name: "URI with tag", repo: host + "/shop:1.4", region: "eu-west-1", wantError: "must not include a tag"},
		{name: "digest", repo: host + "/shop@sha256:abc", wantError: "must not include a digest"},
		{name: "scheme", repo: "https://" + host + "/shop", wantError: "must not include a URL scheme"},
		{name: "other registry", repo: "ghcr.io/acme/shop", wantError: `names the registry "ghcr.io", which is not an ECR registry`},
		{name: "host only", repo: host, wantError: "names a registry but no repository"},
		{name: "other region", repo: host + "/shop", region: "us-east-1", wantError: `is in region "eu-west-1", but the AWS region is "us-east-1"`},
		{name: "bad account", repo: "shop", account: "12345", wantError: `invalid AWS account ID "12345"`},
		{name: "bad region", repo: "shop", region: "Europe", wantError: `invalid AWS region "Europe"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := registry.ParseTarget(tc.repo, tc.region, tc.account)
			if tc.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantError) {
					t.Fatalf("ParseTarget(%q) error = %v, want one containing %q", tc.repo, err, tc.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseTarget(%q) (-want +got):\n%s", tc.repo, diff)
			}
			if tc.wantRef != "" {
				if ref := got.Ref("default.example"); ref != tc.wantRef {
					t.Errorf("Ref = %q, want %q", ref, tc.wantRef)
				}
			}
		})
	}
}
