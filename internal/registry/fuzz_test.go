package registry_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/bluegreen-dev/bluegreen-action/internal/registry"
)

// FuzzParseTarget: whatever is written in ecr-repository (and whatever the
// region and account are), ParseTarget either refuses it with a message
// that quotes what was wrong, or returns a repository that the copy can
// push to in the region the ECR API is called in.
func FuzzParseTarget(f *testing.F) {
	const host = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
	seeds := []struct{ repo, region, account string }{
		{"shop", "eu-west-1", ""},
		{"team/shop", "eu-west-1", "123456789012"},
		{"shop", "cn-north-1", "123456789012"},
		{"shop", "us-gov-west-1", "123456789012"},
		{host + "/team/shop", "eu-west-1", ""},
		{host + "/team/shop", "", ""},
		{"210987654321.dkr.ecr.eu-west-1.amazonaws.com/shop", "eu-west-1", "123456789012"},
		{"123456789012.dkr-ecr.eu-west-1.on.aws/shop", "", ""},
		{"123456789012.dkr.ecr-fips.us-east-1.amazonaws.com/shop", "us-east-1", ""},
		{"123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/shop", "", ""},
		{"ab_c-d/e.f_g-h", "", ""},
		{"ab/c__d", "", ""},
		{"team.a/shop", "", ""},
		{"localhost/shop", "", ""},
		{"127.0.0.1:5000/shop", "", ""},
		{"", "", ""},
		{"a", "", ""},
		{strings.Repeat("a", 256), "", ""},
		{strings.Repeat("ab/", 85) + "a", "", ""},
		{"Shop", "", ""},
		{"/shop", "", ""},
		{"shop-", "", ""},
		{"shop:1.4", "", ""},
		{host + "/shop:1.4", "eu-west-1", ""},
		{host + "/shop@sha256:abc", "", ""},
		{"https://" + host + "/shop", "", ""},
		{"ghcr.io/acme/shop", "", ""},
		{host, "", ""},
		{host + "/", "", ""},
		{host + "/shop", "us-east-1", ""},
		{"shop", "", "12345"},
		{"shop", "Europe", ""},
	}
	for _, s := range seeds {
		f.Add(s.repo, s.region, s.account)
	}
	f.Fuzz(func(t *testing.T, repo, region, account string) {
		got, err := registry.ParseTarget(repo, region, account)
		if err != nil {
			msg := err.Error()
			_, path, _ := strings.Cut(repo, "/")
			named := repo == "" && msg == "no ECR repository"
			for _, v := range []string{repo, region, account, path} {
				named = named || v != "" && strings.Contains(msg, strconv.Quote(v))
			}
			if !named {
				t.Errorf("ParseTarget(%q, %q, %q) error %q quotes none of the values given", repo, region, account, msg)
			}
			return
		}
		if err := registry.ValidateRepositoryName(got.Repository); err != nil {
			t.Errorf("ParseTarget(%q) returned the invalid repository %q: %v", repo, got.Repository, err)
		}
		if region != "" && got.Region != region {
			t.Errorf("ParseTarget(%q) is in region %q, not in the region %q the ECR API is called in", repo, got.Region, region)
		}
		if got.Host != "" {
			if !strings.HasPrefix(got.Host, got.Account+".dkr") || !strings.Contains(got.Host, "."+got.Region+".") {
				t.Errorf("ParseTarget(%q) = %+v: the host is not the account's registry in the region", repo, got)
			}
		}
		// What Promote is then given must be a repository it accepts.
		ref := got.Ref("123456789012.dkr.ecr.eu-west-1.amazonaws.com")
		if _, err := name.NewRepository(ref, name.StrictValidation); err != nil {
			t.Errorf("ParseTarget(%q) accepted a repository that cannot be pushed to: %v", repo, err)
		}
	})
}

// FuzzParseSource: whatever is written in source-image, ParseSource either
// refuses it with a message that quotes it, or says where to read it from
// in a way that holds: a reference that parses again to itself, an OCI
// layout folder with an index.json, or an existing .tar file.
func FuzzParseSource(f *testing.F) {
	dir := f.TempDir()
	layoutDir := filepath.Join(dir, "oci")
	plainDir := filepath.Join(dir, "plain")
	for _, d := range []string{layoutDir, plainDir, filepath.Join(dir, "dir.tar")} {
		if err := os.Mkdir(d, 0o700); err != nil {
			f.Fatal(err)
		}
	}
	for _, file := range []string{filepath.Join(layoutDir, "index.json"), filepath.Join(dir, "image.tar"), filepath.Join(dir, "notes.txt")} {
		if err := os.WriteFile(file, nil, 0o600); err != nil {
			f.Fatal(err)
		}
	}
	for _, s := range []string{
		"ghcr.io/acme/shop:1.4",
		"ghcr.io/acme/shop@sha256:" + strings.Repeat("a", 64),
		"ghcr.io/acme/shop:1.4@sha256:" + strings.Repeat("a", 64),
		"123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/shop:abc123",
		"localhost:5000/shop",
		"127.0.0.1:35000/bg-test/shop:qa",
		"[::1]:5000/shop:v1",
		"nginx",
		"library/nginx:latest",
		"ghcr.io/Acme/shop",
		"shop:",
		"shop@sha256:abc",
		"",
		".", "..", "./build/image", "../image.tar", "/",
		layoutDir, plainDir, filepath.Join(dir, "dir.tar"), filepath.Join(dir, "image.tar"),
		filepath.Join(dir, "none.tar"), filepath.Join(dir, "notes.txt"),
		"image.tar", "nul\x00.tar",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		src, err := registry.ParseSource(s)
		if err != nil {
			if msg := err.Error(); !strings.Contains(msg, strconv.Quote(s)) && !(s == "" && msg == "no source image") {
				t.Errorf("ParseSource(%q) error %q does not quote the value", s, msg)
			}
			return
		}
		switch src.Kind {
		case registry.FromRegistry:
			if src.Ref == nil {
				t.Fatalf("ParseSource(%q) is a registry source without a reference", s)
			}
			again, err := name.ParseReference(src.String())
			if err != nil {
				t.Fatalf("ParseSource(%q) names %q, which does not parse: %v", s, src.String(), err)
			}
			if again.String() != src.String() || again.Name() != src.Ref.Name() {
				t.Errorf("ParseSource(%q) names %q (%s), which parses again as %q (%s)", s, src.String(), src.Ref.Name(), again.String(), again.Name())
			}
		case registry.FromLayout:
			if _, err := os.Stat(filepath.Join(src.Path, "index.json")); err != nil || src.Path != s {
				t.Errorf("ParseSource(%q) = layout %q without an index.json: %v", s, src.Path, err)
			}
		case registry.FromTarball:
			if st, err := os.Stat(src.Path); err != nil || !st.Mode().IsRegular() || !strings.HasSuffix(s, ".tar") || src.Path != s {
				t.Errorf("ParseSource(%q) = archive %q, which is not an existing .tar file: %v", s, src.Path, err)
			}
		default:
			t.Errorf("ParseSource(%q) has kind %q", s, src.Kind)
		}
	})
}
