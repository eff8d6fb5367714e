package registry_test

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsfake"
	"github.com/bluegreen-dev/bluegreen-action/internal/registry"
)

// The real registry of these tests: Debian's docker-registry (distribution)
// with htpasswd basic auth, as scripts/registry-local starts it.
const (
	envRegistry    = "BLUEGREEN_TEST_REGISTRY" // host:port
	envUser        = "BLUEGREEN_TEST_REGISTRY_USER"
	envPassword    = "BLUEGREEN_TEST_REGISTRY_PASSWORD"
	envIntegration = "BLUEGREEN_INTEGRATION" // "1": a missing registry fails the test
	localEnvFile   = ".registry-local/env"
	notRunning     = "local registry not running; scripts/registry-local up"
)

type realRegistry struct {
	host, user, password string
}

// testRegistry returns the real registry from the environment, or from
// the env file scripts/registry-local writes. It skips the test when there
// is none, or fails it when BLUEGREEN_INTEGRATION=1.
func testRegistry(t *testing.T) realRegistry {
	t.Helper()
	env := map[string]string{}
	for _, k := range []string{envRegistry, envUser, envPassword} {
		env[k] = os.Getenv(k)
	}
	if env[envRegistry] == "" {
		if err := readEnvFile(env); err != nil {
			t.Fatalf("reading %s: %v", localEnvFile, err)
		}
	}
	if env[envRegistry] == "" {
		if os.Getenv(envIntegration) == "1" {
			t.Fatalf("%s (%s=1 requires the registry)", notRunning, envIntegration)
		}
		t.Skip(notRunning)
	}
	if env[envUser] == "" || env[envPassword] == "" {
		t.Fatalf("%s is set but %s or %s is not", envRegistry, envUser, envPassword)
	}
	return realRegistry{host: env[envRegistry], user: env[envUser], password: env[envPassword]}
}

// readEnvFile fills env from .registry-local/env at the module root, if
// the file exists.
func readEnvFile(env map[string]string) error {
	dir, err := os.Getwd()
	if err != nil {
		return err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil // not inside the module: nothing to find
		}
		dir = parent
	}
	f, err := os.Open(filepath.Join(dir, localEnvFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if k, v, ok := strings.Cut(s.Text(), "="); ok {
			if _, wanted := env[k]; wanted {
				env[k] = v
			}
		}
	}
	return s.Err()
}

// uniqueRepo returns a repository name no other run has used: the
// registry's storage outlives test runs.
func uniqueRepo(t *testing.T, suffix string) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "bg-test/" + hex.EncodeToString(b) + "/" + suffix
}

func (r realRegistry) auth() remote.Option {
	return remote.WithAuth(&authn.Basic{Username: r.user, Password: r.password})
}

// ecrFor returns an ECR double whose tokens open r with password.
func (r realRegistry) ecrFor(password string) *awsfake.ECR {
	fake := awsfake.NewECR(account, region)
	fake.SetRegistry("http://"+r.host, password)
	return fake
}

func TestIntegrationPromoteThroughECRAuth(t *testing.T) {
	t.Parallel()
	real := testRegistry(t)
	ctx := t.Context()
	fake := real.ecrFor(real.password)

	var masked, log lines
	login, err := registry.ECRAuth(ctx, fake, masked.add)
	if err != nil {
		t.Fatal(err)
	}
	target, err := registry.ParseTarget(uniqueRepo(t, "shop"), region, "")
	if err != nil {
		t.Fatal(err)
	}
	repo, err := registry.EnsureRepository(ctx, fake, registry.RepositorySpec{Name: target.Repository, Create: true, ScanOnPush: true})
	if err != nil {
		t.Fatal(err)
	}
	if !repo.Created {
		t.Error("the repository was not created")
	}

	src := newRegistry(t)
	idx := multiArch(t, v1.Platform{OS: "linux", Architecture: "amd64"}, v1.Platform{OS: "linux", Architecture: "arm64"})
	digest := push(t, src+"/qa/shop:abc123", idx)
	var wantBytes int64
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range im.Manifests {
		img, err := idx.Image(c.Digest)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := blobBytes(t, img)
		wantBytes += n
	}

	req := registry.Request{Source: src + "/qa/shop:abc123", Target: target.Ref(login.Host), Tags: []string{"abc123", "prod"}}
	opts := []registry.Option{noCredentials, registry.WithAuth(login.Host, login.Auth), registry.WithMask(masked.add), registry.WithLog(log.add)}
	res, err := registry.Promote(ctx, req, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cross-registry copy of a 2-platform index: %d bytes uploaded in %d blobs (blobs total %d bytes), %d mounted, %d existing",
		res.BytesUploaded, res.BlobsUploaded, wantBytes, res.BlobsMounted, res.BlobsExisting)
	if res.Digest != digest.String() || res.BytesUploaded != wantBytes {
		t.Errorf("copied %s with %d bytes uploaded, want %s with %d", res.Digest, res.BytesUploaded, digest, wantBytes)
	}
	for _, tag := range req.Tags {
		desc, err := remote.Head(parseRef(t, req.Target+":"+tag), real.auth())
		if err != nil {
			t.Fatalf("HEAD %s:%s: %v", req.Target, tag, err)
		}
		if desc.Digest != digest {
			t.Errorf("%s:%s has %s, want %s", req.Target, tag, desc.Digest, digest)
		}
	}
	copied, err := remote.Index(parseRef(t, res.Image), real.auth())
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Index(copied); err != nil {
		t.Errorf("the index in the registry is not whole: %v", err)
	}

	again, err := registry.Promote(ctx, req, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if again.BytesUploaded != 0 {
		t.Errorf("second promotion uploaded %d bytes, want 0", again.BytesUploaded)
	}

	if !strings.Contains(masked.text(), real.password) {
		t.Error("the registry password was not masked")
	}
	if strings.Contains(log.text(), real.password) {
		t.Errorf("a log line holds the password:\n%s", log.text())
	}
}

// The same image twice: from another registry every blob is uploaded;
// from a repository of the same registry none is, each one is mounted.
func TestIntegrationMountWithinRegistry(t *testing.T) {
	t.Parallel()
	real := testRegistry(t)
	img := randomImage(t, 32<<10, 3)
	size, blobs := blobBytes(t, img)
	src := newRegistry(t)
	digest := push(t, src+"/shop:abc123", img)
	qa, prod := real.host+"/"+uniqueRepo(t, "qa"), real.host+"/"+uniqueRepo(t, "prod")
	opts := []registry.Option{noCredentials, registry.WithAuth(real.host, &authn.Basic{Username: real.user, Password: real.password})}

	toQA, err := registry.Promote(t.Context(), registry.Request{Source: src + "/shop@" + digest.String(), Target: qa, Tags: []string{"abc123"}}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cross-registry copy of a %d-byte image: %d bytes uploaded, %d blobs uploaded, %d mounted, %d existing",
		size, toQA.BytesUploaded, toQA.BlobsUploaded, toQA.BlobsMounted, toQA.BlobsExisting)
	if toQA.BytesUploaded != size || toQA.BlobsUploaded != blobs {
		t.Errorf("cross-registry copy uploaded %d bytes in %d blobs, want %d in %d", toQA.BytesUploaded, toQA.BlobsUploaded, size, blobs)
	}

	toProd, err := registry.Promote(t.Context(), registry.Request{Source: qa + "@" + digest.String(), Target: prod, Tags: []string{"abc123"}}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("same-registry copy of a %d-byte image: %d bytes uploaded, %d blobs uploaded, %d mounted, %d existing",
		size, toProd.BytesUploaded, toProd.BlobsUploaded, toProd.BlobsMounted, toProd.BlobsExisting)
	// distribution keeps blob links per repository: the target has none
	// of them, so each one must have been mounted, not found.
	if toProd.BytesUploaded != 0 || toProd.BlobsMounted != blobs {
		t.Errorf("same-registry copy uploaded %d bytes and mounted %d blobs, want 0 bytes and %d mounts", toProd.BytesUploaded, toProd.BlobsMounted, blobs)
	}
	copied, err := remote.Image(parseRef(t, toProd.Image), real.auth())
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Image(copied); err != nil {
		t.Errorf("mounted image is not whole: %v", err)
	}
}

func TestIntegrationWrongPassword(t *testing.T) {
	t.Parallel()
	real := testRegistry(t)
	wrong := "not-" + real.password
	fake := real.ecrFor(wrong)

	var masked, log lines
	login, err := registry.ECRAuth(t.Context(), fake, masked.add)
	if err != nil {
		t.Fatal(err)
	}
	src := newRegistry(t)
	digest := push(t, src+"/qa/shop:abc123", randomImage(t, 1024, 1))
	target := real.host + "/" + uniqueRepo(t, "shop")
	_, err = registry.Promote(t.Context(), registry.Request{Source: src + "/qa/shop@" + digest.String(), Target: target, Tags: []string{"abc123"}},
		noCredentials, registry.WithAuth(login.Host, login.Auth), registry.WithMask(masked.add), registry.WithLog(log.add))
	if !errors.Is(err, registry.ErrUnauthorized) {
		t.Fatalf("Promote error = %v, want ErrUnauthorized", err)
	}
	want := `pushing to "` + target + `:abc123": authentication failed for registry "` + real.host + `": the registry rejected the credentials (HTTP 401)`
	if err.Error() != want {
		t.Errorf("error = %q\nwant    %q", err, want)
	}
	for _, secret := range []string{wrong, real.password} {
		if strings.Contains(err.Error(), secret) || strings.Contains(log.text(), secret) {
			t.Errorf("a password shows in the error or the log:\nerror: %v\nlog: %s", err, log.text())
		}
	}
	if !strings.Contains(masked.text(), wrong) {
		t.Error("the password was not masked before use")
	}
}
