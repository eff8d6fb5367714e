package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestARNRegionCheckedBeforeAnyCall: an ARN input in another region than
// the one the run's AWS calls go to is a bad input (exit 2, naming the
// input) before any AWS call, whatever gives the region: the region input,
// AWS_REGION, AWS_DEFAULT_REGION or the profile. Asked in the wrong
// region, AWS answers only after the SDK's retries.
func TestARNRegionCheckedBeforeAnyCall(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"__type":"ClientException","message":"the test server answers no call"}`))
	}))
	defer srv.Close()

	const listenerARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2"
	cases := []struct {
		name    string
		env     []string
		profile string
	}{
		{name: "region input", env: []string{"BLUEGREEN_REGION=us-east-1"}},
		{name: "AWS_REGION", env: []string{"AWS_REGION=us-east-1"}},
		{name: "AWS_DEFAULT_REGION", env: []string{"AWS_DEFAULT_REGION=us-east-1"}},
		{name: "profile", profile: "[default]\nregion = us-east-1\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			e := append(append(awsStandInEnv(dir, srv.URL),
				"BLUEGREEN_APP=shop",
				"BLUEGREEN_IMAGE=shop:v2",
				"BLUEGREEN_PLATFORM=ecs",
				"BLUEGREEN_CLUSTER=prod",
				"BLUEGREEN_ROUTER=alb",
				"BLUEGREEN_LISTENER_ARN="+listenerARN,
			), tc.env...)
			if tc.profile != "" {
				if err := os.WriteFile(filepath.Join(dir, "config"), []byte(tc.profile), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			before := calls.Load()
			code, stdout, stderr := runBinary(t, bin, dir, e)
			if got, want := code, exitInput; got != want {
				t.Errorf("exit status = %d, want %d\nstdout:\n%s\nstderr:\n%s", got, want, stdout, stderr)
			}
			want := `input "listener-arn": "` + listenerARN + `" is in region "eu-west-1"`
			if !strings.Contains(stderr, want) || !strings.Contains(stderr, `"us-east-1"`) {
				t.Errorf("stderr = %q, want it to hold %q and name us-east-1", stderr, want)
			}
			if n := calls.Load() - before; n != 0 {
				t.Errorf("%d AWS calls before the region check, want none", n)
			}
		})
	}
}

// awsStandInEnv is the environment of a binary run whose AWS calls go to
// the stand-in at endpoint, with example credentials and no shared
// configuration but what the test writes into dir.
func awsStandInEnv(dir, endpoint string) []string {
	return []string{
		"CI=true",
		"HOME=" + dir,
		"AWS_ACCESS_KEY_ID=AKIDEXAMPLE",
		"AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_ENDPOINT_URL=" + endpoint,
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "credentials"),
	}
}
