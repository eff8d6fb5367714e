package plain

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bluegreen-dev/bluegreen-action/internal/clock"
	"github.com/bluegreen-dev/bluegreen-action/internal/pipeline"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
	"github.com/bluegreen-dev/bluegreen-action/internal/testkit"
)

var started = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

const (
	digest142 = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	digest141 = "sha256:60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"
)

func sampleResult() report.Result {
	return report.Result{
		Command:       "deploy",
		App:           "shop",
		Platform:      "kubernetes",
		Router:        "service",
		Target:        "prod/shop",
		Outcome:       report.Success,
		Changed:       true,
		Image:         "ghcr.io/acme/shop:1.4.2",
		Digest:        digest142,
		PreviousColor: "blue",
		ActiveColor:   "green",
		Version:       "v1.4.0",
		Colors: []report.ColorState{
			{Color: "blue", Weight: 0, Image: "ghcr.io/acme/shop:1.4.1", Digest: digest141, Ready: 3, Desired: 3, Revision: "7", State: "warm"},
			{Color: "green", Live: true, Weight: 100, Image: "ghcr.io/acme/shop:1.4.2", Digest: digest142, Ready: 3, Desired: 3, Revision: "8", State: "serving"},
		},
		Steps: []pipeline.Result{
			{Name: "lock", Status: pipeline.StatusOK, Duration: 120 * time.Millisecond, Detail: "held by run 42"},
			{Name: "migrate", Status: pipeline.StatusSkipped, Detail: "no migrations configured"},
			{Name: "deploy green", Status: pipeline.StatusOK, Duration: 72300 * time.Millisecond, Detail: "3/3 ready"},
			{Name: "switch traffic", Status: pipeline.StatusOK, Duration: 850 * time.Millisecond, Detail: "blue 0%, green 100%"},
			{Name: "scale blue", Status: pipeline.StatusOK, Duration: 1100 * time.Millisecond},
			{Name: "unlock", Status: pipeline.StatusOK, Duration: 45 * time.Millisecond},
		},
		Notes:    []string{"previous release 1.4.1 stays warm for instant rollback"},
		Started:  started,
		Finished: started.Add(83 * time.Second),
	}
}

// run feeds a reporter the calls a deploy makes and finishes with r.
func run(t *testing.T, rep *Reporter, clock *clock.Fake, r report.Result) {
	t.Helper()
	rep.Info("deploying ghcr.io/acme/shop:1.4.2 to green")
	for _, s := range r.Steps {
		if s.Status == pipeline.StatusNotRun {
			continue // a run reports these only in its summary
		}
		rep.StepStarted(s.Name)
		if s.Name == "deploy green" {
			for i := range 4 {
				rep.Progress("waiting for green: " + string(rune('0'+i)) + "/3 ready")
				clock.Advance(3 * time.Second)
			}
			rep.Warning("green has no PodDisruptionBudget\nadd one to keep capacity during node drains")
		}
		rep.StepFinished(s)
	}
	if err := rep.Finish(r); err != nil {
		t.Fatal(err)
	}
}

func TestGolden(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		result func() report.Result
	}{
		{"success", sampleResult},
		{"rolled-back", func() report.Result {
			r := sampleResult()
			r.Outcome, r.Changed, r.ActiveColor = report.RolledBack, false, "blue"
			r.AWSCalls = 35
			r.Error = "watch green: error rate 12.5% over the 5% threshold"
			r.Colors[0].Live, r.Colors[0].Weight, r.Colors[0].State = true, 100, "serving"
			r.Colors[1].Live, r.Colors[1].Weight, r.Colors[1].Ready, r.Colors[1].State = false, 0, 0, "scaled to 0"
			r.Steps = []pipeline.Result{
				{Name: "lock", Status: pipeline.StatusReverted, Duration: 160 * time.Millisecond},
				{Name: "deploy green", Status: pipeline.StatusReverted, Duration: 64 * time.Second, Detail: "scaled to 0"},
				{Name: "switch traffic", Status: pipeline.StatusRevertFailed, Duration: 31 * time.Second, Detail: "modifying service \"shop\":\ncontext deadline exceeded"},
				{Name: "watch green", Status: pipeline.StatusFailed, Duration: 123 * time.Second, Detail: "error rate 12.5% over the 5% threshold"},
				{Name: "scale blue", Status: pipeline.StatusNotRun},
			}
			r.Notes = nil
			r.Traffic = []report.TrafficPoint{
				{At: started.Add(time.Second), Blue: 100, Step: "read live state"},
				{At: started.Add(66 * time.Second), Blue: 50, Green: 50, Step: "switch traffic 50%"},
				{At: started.Add(80 * time.Second), Blue: 100, Step: "switch traffic (put back)"},
			}
			return r
		}},
		{"failed", func() report.Result {
			r := sampleResult()
			r.Outcome, r.Changed, r.PreviousColor, r.ActiveColor, r.Colors, r.Notes = report.Failed, false, "unknown", "unknown", nil, nil
			detail := `reading lease "shop-bluegreen-lock": deployments.apps is forbidden: User "ci" cannot get resource "leases"`
			r.Error = "lock: " + detail
			r.NextStep = "The cluster refused a request (403 Forbidden): apply docs/rbac-kubernetes.yaml."
			r.Steps = []pipeline.Result{{Name: "lock", Status: pipeline.StatusFailed, Duration: 4 * time.Millisecond, Detail: detail}}
			for _, name := range []string{"read live state", "deploy idle color", "wait until ready", "switch traffic", "bake and confirm"} {
				r.Steps = append(r.Steps, pipeline.Result{Name: name, Status: pipeline.StatusNotRun})
			}
			return r
		}},
		{"dry-run", func() report.Result {
			r := sampleResult()
			r.DryRun, r.Changed, r.Digest, r.Colors = true, false, "", nil
			r.Steps = []pipeline.Result{
				{Name: "validate", Status: pipeline.StatusOK, Duration: 300 * time.Millisecond},
				{Name: "deploy green", Status: pipeline.StatusSkipped, Detail: "dry run: would deploy 3 replicas"},
			}
			r.Notes = []string{"would create deployment shop-green", "would change service shop:\n  selector color=blue -> color=green"}
			return r
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "result.json")
			var buf bytes.Buffer
			clock := clock.NewFake(started)
			rep := New(&buf, WithResultFile(path), WithClock(clock.Now))
			run(t, rep, clock, tc.result())
			testkit.Golden(t, tc.name+".txt.golden", buf.Bytes())
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			testkit.Golden(t, tc.name+".json.golden", b)
		})
	}
}

func TestResultFileDecodes(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "result.json")
	r := sampleResult()
	if err := New(&bytes.Buffer{}, WithResultFile(path)).Finish(r); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Result  string            `json:"result"`
		Outputs map[string]string `json:"outputs"`
		Steps   []struct {
			Name       string `json:"name"`
			DurationMS int64  `json:"duration_ms"`
		} `json:"steps"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, o := range r.Outputs() {
		want[o[0]] = o[1]
	}
	if diff := cmp.Diff(want, got.Outputs); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	if got, want := got.Steps[2].DurationMS, int64(72300); got != want {
		t.Errorf("duration_ms of %s = %d, want %d", r.Steps[2].Name, got, want)
	}
	if got, want := got.Result, "success"; got != want {
		t.Errorf("result = %q, want %q", got, want)
	}
}

func TestResultFileReplaced(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "result.json")
	if err := os.WriteFile(path, []byte(strings.Repeat("old ", 10000)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := New(&bytes.Buffer{}, WithResultFile(path)).Finish(sampleResult()); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(b) {
		t.Errorf("result file is not valid JSON:\n%s", b)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(entries), 1; got != want {
		t.Errorf("directory holds %d files, want %d (temporary file left behind?)", got, want)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := info.Mode().Perm(), os.FileMode(0o644); got != want {
		t.Errorf("result file mode = %v, want %v", got, want)
	}
}

func TestResultFileError(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "missing", "result.json")
	err := New(&bytes.Buffer{}, WithResultFile(path)).Finish(sampleResult())
	if err == nil {
		t.Fatal("Finish succeeded, want an error")
	}
	if got, want := err.Error(), "writing result file "; !strings.HasPrefix(got, want) {
		t.Errorf("Finish error = %q, want prefix %q", got, want)
	}
}

func TestStepLines(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	rep := New(&buf)
	rep.StepStarted("lock")
	rep.Info("acquiring lock shop")
	rep.StepFinished(pipeline.Result{Name: "lock", Status: pipeline.StatusOK, Duration: 120 * time.Millisecond, Detail: "held by run 42"})
	rep.StepStarted("migrate")
	rep.StepFinished(pipeline.Result{Name: "migrate", Status: pipeline.StatusSkipped, Detail: "no migrations configured"})
	rep.StepStarted("switch traffic")
	rep.StepFinished(pipeline.Result{Name: "switch traffic", Status: pipeline.StatusFailed, Duration: 2345 * time.Millisecond, Detail: "AccessDenied:\nnot authorized"})
	rep.StepStarted("revert lock")
	rep.StepFinished(pipeline.Result{Name: "lock", Status: pipeline.StatusRevertFailed, Duration: 30 * time.Millisecond, Detail: "lock lost"})
	rep.Info("done")
	rep.Error("deploy failed\nsee above")

	want := strings.Join([]string{
		"==> lock",
		"    acquiring lock shop",
		"    ok             lock  (120ms)  held by run 42",
		"==> migrate",
		"    skipped        migrate  no migrations configured",
		"==> switch traffic",
		"    failed         switch traffic  (2.3s)  AccessDenied:",
		"                   not authorized",
		"==> revert lock",
		"    revert failed  lock  (30ms)  lock lost",
		"done",
		"error: deploy failed",
		"error: see above",
		"",
	}, "\n")
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
}

func TestMask(t *testing.T) {
	t.Parallel()
	const (
		token = "s3cr3t-t0k3n"
		// A key with a quote and a backslash is escaped in JSON.
		key = "AKIA\"x\\y-0123"
		pem = "-----BEGIN KEY-----\nMIIEvQIBADANBg\n-----END KEY-----"
	)
	path := filepath.Join(t.TempDir(), "result.json")
	var buf bytes.Buffer
	rep := New(&buf, WithResultFile(path), WithProgressInterval(0))
	for _, s := range []string{token, key, pem, "", "  "} {
		rep.Mask(s)
	}
	rep.StepStarted("login " + token)
	rep.Info("using token " + token + " and key " + key)
	rep.Progress("pem: " + pem)
	rep.Warning("second line alone: MIIEvQIBADANBg")
	rep.Error("auth with " + key + " failed")
	rep.StepFinished(pipeline.Result{Name: "login", Status: pipeline.StatusFailed, Detail: "bad token " + token})
	r := sampleResult()
	r.Error = "login: token " + token + " rejected; key " + key + "\n" + pem
	r.Notes = []string{"key " + key}
	r.Steps = append(r.Steps, pipeline.Result{Name: "login", Status: pipeline.StatusFailed, Detail: "bad token " + token})
	r.Image = "registry.example.com/shop:" + token
	if err := rep.Finish(r); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(file) {
		t.Fatalf("masked result file is not valid JSON:\n%s", file)
	}
	jsonKey, _ := json.Marshal(key)
	for name, out := range map[string]string{"log": buf.String(), "result file": string(file)} {
		for _, secret := range []string{token, key, string(jsonKey[1 : len(jsonKey)-1]), "MIIEvQIBADANBg", "BEGIN KEY"} {
			if strings.Contains(out, secret) {
				t.Errorf("%s holds secret %q:\n%s", name, secret, out)
			}
		}
		if !strings.Contains(out, "***") {
			t.Errorf("%s holds no ***:\n%s", name, out)
		}
	}
}

func TestProgressRateLimit(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		interval time.Duration
		// steps are the clock advances before each Progress call.
		steps []time.Duration
		want  []string
	}{
		{
			name:     "default interval",
			interval: DefaultProgressInterval,
			steps:    []time.Duration{0, time.Second, 3 * time.Second, time.Second, 4999 * time.Millisecond, time.Millisecond, 10 * time.Second},
			want:     []string{"p0", "p3", "p5", "p6"},
		},
		{
			name:     "custom interval",
			interval: 100 * time.Millisecond,
			steps:    []time.Duration{0, 50 * time.Millisecond, 50 * time.Millisecond, 99 * time.Millisecond},
			want:     []string{"p0", "p2"},
		},
		{
			name:     "no limit",
			interval: 0,
			steps:    []time.Duration{0, 0, 0},
			want:     []string{"p0", "p1", "p2"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			clock := clock.NewFake(started)
			rep := New(&buf, WithClock(clock.Now), WithProgressInterval(tc.interval))
			for i, d := range tc.steps {
				clock.Advance(d)
				rep.Progress("p" + string(rune('0'+i)))
			}
			got := strings.Fields(buf.String())
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("progress lines (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDefaultProgressInterval checks that New without options limits
// progress lines, since the real clock cannot be faked here.
func TestDefaultProgressInterval(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	rep := New(&buf)
	rep.Progress("first")
	rep.Progress("second")
	if got, want := buf.String(), "first\n"; got != want {
		t.Errorf("log = %q, want %q", got, want)
	}
}

func TestConcurrentProgress(t *testing.T) {
	t.Parallel()
	var buf testkit.SyncBuffer
	rep := New(&buf, WithProgressInterval(0))
	var wg sync.WaitGroup
	wg.Go(func() {
		for range 100 {
			rep.Progress("waiting")
		}
	})
	for range 100 {
		rep.StepStarted("step")
		rep.StepFinished(pipeline.Result{Name: "step", Status: pipeline.StatusOK, Duration: time.Second})
	}
	wg.Wait()
	for _, line := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		switch strings.TrimSpace(line) {
		case "==> step", "ok             step  (1s)", "waiting":
		default:
			t.Fatalf("interleaved line %q", line)
		}
	}
}

// TestCommandsInMessages: text from deployed systems, with a carriage
// return (a line break to a terminal and a CI runner) before workflow
// commands, gets the prefix on each piece and is quoted where a GitHub
// runner reading this output would obey it.
func TestCommandsInMessages(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	rep := New(&buf)
	rep.Info("job log\r::error::forged\r\n  ::stop-commands::x")
	rep.StepStarted("lock")
	rep.StepFinished(pipeline.Result{Name: "lock", Status: pipeline.StatusFailed, Detail: "api: no\r::warning::forged"})
	want := strings.Join([]string{
		"job log",
		`"::error::forged"`,
		`"  ::stop-commands::x"`,
		"==> lock",
		"    failed         lock  (0s)  api: no",
		`    "               ::warning::forged"`,
		"",
	}, "\n")
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
}
