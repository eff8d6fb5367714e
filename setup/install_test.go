// Package setup_test runs install.sh, the setup action's installer, against
// a local HTTP server that serves a release's files the way GitHub serves
// them: /download/<tag>/<file>, and /latest redirecting to /tag/<tag>.
package setup_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// release is the files of one release, by name.
type release struct {
	tag   string
	files map[string][]byte
}

func archiveName(tag string) string {
	return fmt.Sprintf("bluegreen_%s_%s_%s.tar.gz", strings.TrimPrefix(tag, "v"), runtime.GOOS, runtime.GOARCH)
}

func sumsName(tag string) string {
	return fmt.Sprintf("bluegreen_%s_checksums.txt", strings.TrimPrefix(tag, "v"))
}

// tarGz packs one executable file named bluegreen.
func tarGz(t *testing.T, bin []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	if err := tw.WriteHeader(&tar.Header{Name: "bluegreen", Mode: 0o755, Size: int64(len(bin)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(bin); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fakeRelease is a release whose binary is a script that prints says for
// --version, as the real binary prints its version.
func fakeRelease(t *testing.T, tag, says string) release {
	t.Helper()
	archive := tarGz(t, []byte("#!/bin/sh\necho '"+says+"'\n"))
	sum := sha256.Sum256(archive)
	return release{tag: tag, files: map[string][]byte{
		archiveName(tag): archive,
		sumsName(tag):    []byte(hex.EncodeToString(sum[:]) + "  " + archiveName(tag) + "\n"),
	}}
}

// serve serves rel as GitHub serves releases and returns the releases URL.
func serve(t *testing.T, rel release) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /releases/latest", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/releases/tag/"+rel.tag, http.StatusFound)
	})
	mux.HandleFunc("GET /releases/tag/{tag}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("tag") != rel.tag {
			http.NotFound(w, r)
		}
	})
	mux.HandleFunc("GET /releases/download/{tag}/{file}", func(w http.ResponseWriter, r *http.Request) {
		b, ok := rel.files[r.PathValue("file")]
		if r.PathValue("tag") != rel.tag || !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(b)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/releases"
}

type installed struct {
	code         int
	stderr       string
	toolCache    string
	githubPath   string
	githubOutput string
}

// install runs install.sh as the composite action does on a runner.
func install(t *testing.T, url, version string) installed {
	t.Helper()
	dir := t.TempDir()
	res := installed{
		toolCache:    filepath.Join(dir, "toolcache"),
		githubPath:   filepath.Join(dir, "github_path"),
		githubOutput: filepath.Join(dir, "github_output"),
	}
	for _, f := range []string{res.githubPath, res.githubOutput} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("bash", "install.sh", version)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"BLUEGREEN_RELEASES_URL=" + url,
		"RUNNER_TOOL_CACHE=" + res.toolCache,
		"GITHUB_PATH=" + res.githubPath,
		"GITHUB_OUTPUT=" + res.githubOutput,
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("running install.sh: %v", err)
		}
		res.code = ee.ExitCode()
	}
	res.stderr = stderr.String()
	return res
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestInstall(t *testing.T) {
	t.Parallel()
	const tag = "v1.2.3"
	url := serve(t, fakeRelease(t, tag, "bluegreen "+tag))
	for _, version := range []string{"v1.2.3", "1.2.3", "latest", ""} {
		t.Run("version "+version, func(t *testing.T) {
			t.Parallel()
			res := install(t, url, version)
			if res.code != 0 {
				t.Fatalf("install.sh %q: exit %d\n%s", version, res.code, res.stderr)
			}
			dir := filepath.Join(res.toolCache, "bluegreen", "1.2.3", runtime.GOARCH)
			out, err := exec.Command(filepath.Join(dir, "bluegreen"), "--version").Output()
			if err != nil {
				t.Fatalf("running the installed binary: %v", err)
			}
			if got, want := string(out), "bluegreen v1.2.3\n"; got != want {
				t.Errorf("installed binary says %q, want %q", got, want)
			}
			if got, want := read(t, res.githubPath), dir+"\n"; got != want {
				t.Errorf("GITHUB_PATH = %q, want %q", got, want)
			}
			if got, want := read(t, res.githubOutput), "version=v1.2.3\npath="+dir+"/bluegreen\n"; got != want {
				t.Errorf("GITHUB_OUTPUT = %q, want %q", got, want)
			}
		})
	}
}

// TestInstallRefuses: nothing is installed, and nothing added to PATH,
// when the archive is not the one the checksums name.
func TestInstallRefuses(t *testing.T) {
	t.Parallel()
	const tag = "v1.2.3"
	cases := []struct {
		name   string
		change func(release)
		want   string
	}{
		{
			name: "tampered archive",
			change: func(r release) {
				// Same name, other content: a binary someone swapped in.
				r.files[archiveName(tag)] = tarGz(t, []byte("#!/bin/sh\necho 'bluegreen v1.2.3'; echo pwned\n"))
			},
			want: "refusing to install it",
		},
		{
			name: "archive not in the checksums",
			change: func(r release) {
				r.files[sumsName(tag)] = []byte(strings.Repeat("0", 64) + "  bluegreen_1.2.3_plan9_amd64.tar.gz\n")
			},
			want: "lists no SHA-256 for " + archiveName(tag),
		},
		{
			name:   "no checksums file",
			change: func(r release) { delete(r.files, sumsName(tag)) },
			want:   "downloading",
		},
		{
			name: "binary of another version",
			change: func(r release) {
				other := fakeRelease(t, tag, "bluegreen v9.9.9")
				r.files[archiveName(tag)], r.files[sumsName(tag)] = other.files[archiveName(tag)], other.files[sumsName(tag)]
			},
			want: `want "bluegreen v1.2.3"`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rel := fakeRelease(t, tag, "bluegreen "+tag)
			tc.change(rel)
			res := install(t, serve(t, rel), tag)
			if res.code == 0 {
				t.Fatalf("install.sh succeeded, want a refusal:\n%s", res.stderr)
			}
			if !strings.Contains(res.stderr, tc.want) {
				t.Errorf("install.sh says %q, want it to say %q", res.stderr, tc.want)
			}
			if got := read(t, res.githubPath); got != "" {
				t.Errorf("GITHUB_PATH = %q after a refusal, want nothing", got)
			}
			if tc.name != "binary of another version" {
				if _, err := os.Stat(res.toolCache); !os.IsNotExist(err) {
					t.Errorf("something was installed in %s after a refusal (%v)", res.toolCache, err)
				}
			}
		})
	}
}

// TestInstallRealRelease builds this machine's archive with
// scripts/release-binaries, serves it, installs it and runs it.
func TestInstallRealRelease(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a release binary; skipped with -short")
	}
	t.Parallel()
	const tag = "v0.0.0-setup-test"
	dist := t.TempDir()
	cmd := exec.Command(filepath.Join("..", "scripts", "release-binaries"), tag, dist)
	cmd.Env = append(os.Environ(), "TARGETS="+runtime.GOOS+"/"+runtime.GOARCH)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("release-binaries: %v\n%s", err, out)
	}
	rel := release{tag: tag, files: map[string][]byte{}}
	for _, name := range []string{archiveName(tag), sumsName(tag)} {
		b, err := os.ReadFile(filepath.Join(dist, name))
		if err != nil {
			t.Fatalf("release-binaries wrote no %s: %v", name, err)
		}
		rel.files[name] = b
	}
	res := install(t, serve(t, rel), tag)
	if res.code != 0 {
		t.Fatalf("install.sh: exit %d\n%s", res.code, res.stderr)
	}
	bin := filepath.Join(res.toolCache, "bluegreen", strings.TrimPrefix(tag, "v"), runtime.GOARCH, "bluegreen")
	out, err := exec.Command(bin, "status", "--help").Output()
	if err != nil {
		t.Fatalf("%s status --help: %v", bin, err)
	}
	if !strings.Contains(string(out), "kubeconfig / BLUEGREEN_KUBECONFIG") {
		t.Errorf("the installed binary's status --help lists no kubeconfig:\n%s", out)
	}
}
