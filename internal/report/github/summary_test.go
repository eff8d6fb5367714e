package github

import (
	"strings"
	"testing"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/pipeline"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
	"github.com/bluegreen-dev/bluegreen-action/internal/testkit"
)

var started = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

const (
	digest142 = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	digest141 = "sha256:60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"
)

func colors(live string, weight int, greenState string) []report.ColorState {
	blue := report.ColorState{Color: "blue", Live: live == "blue", Image: "ghcr.io/acme/shop:1.4.1", Digest: digest141, Ready: 3, Desired: 3, State: "warm"}
	green := report.ColorState{Color: "green", Live: live == "green", Image: "ghcr.io/acme/shop:1.4.2", Digest: digest142, Ready: 3, Desired: 3, State: greenState}
	if live == "blue" {
		blue.Weight, blue.State = weight, "serving"
	} else {
		green.Weight = weight
	}
	return []report.ColorState{blue, green}
}

// sampleResults are the runs whose summaries users read most.
func sampleResults() map[string]report.Result {
	base := report.Result{
		Command:       "deploy",
		App:           "shop",
		Platform:      "kubernetes",
		Router:        "service",
		Target:        "prod/shop",
		Image:         "ghcr.io/acme/shop:1.4.2",
		Digest:        digest142,
		PreviousColor: "blue",
		Started:       started,
		Finished:      started.Add(83 * time.Second),
		Version:       "v1.4.0",
	}

	success := base
	success.Outcome, success.Changed, success.ActiveColor = report.Success, true, "green"
	success.Colors = colors("green", 100, "serving")
	success.Steps = []pipeline.Result{
		{Name: "lock", Status: pipeline.StatusOK, Duration: 120 * time.Millisecond, Detail: "held by run 42"},
		{Name: "validate", Status: pipeline.StatusOK, Duration: 340 * time.Millisecond},
		{Name: "promote image", Status: pipeline.StatusOK, Duration: 1234 * time.Millisecond, Detail: "already in registry"},
		{Name: "migrate", Status: pipeline.StatusSkipped, Detail: "no migrations configured"},
		{Name: "deploy green", Status: pipeline.StatusOK, Duration: 72300 * time.Millisecond, Detail: "3/3 ready"},
		{Name: "switch traffic", Status: pipeline.StatusOK, Duration: 850 * time.Millisecond, Detail: "blue 100% | green 0% → blue 0% | green 100%"},
		{Name: "scale blue", Status: pipeline.StatusOK, Duration: 1100 * time.Millisecond, Detail: "kept warm at 3 replicas"},
		{Name: "unlock", Status: pipeline.StatusOK, Duration: 45 * time.Millisecond},
	}

	failed := base
	failed.Outcome, failed.ActiveColor = report.Failed, "blue"
	failed.Router, failed.Platform, failed.Target = "alb", "ecs", "prod-cluster/shop"
	failed.Error = "switch traffic: modifying listener \"arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2\": AccessDenied: not authorized\n" +
		"reverting deploy green: scaling service \"shop-green\" to 0: context deadline exceeded after 30s\n" +
		"```\nsee <https://example.com/runbook> | ask #deploys"
	failed.Steps = []pipeline.Result{
		{Name: "lock", Status: pipeline.StatusReverted, Duration: 180 * time.Millisecond},
		{Name: "deploy green", Status: pipeline.StatusRevertFailed, Duration: 95 * time.Second, Detail: "scaling service \"shop-green\" to 0: context deadline exceeded after 30s"},
		{Name: "switch traffic", Status: pipeline.StatusFailed, Duration: 310 * time.Millisecond, Detail: "modifying listener \"arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2\": AccessDenied: not authorized"},
		{Name: "bake and confirm", Status: pipeline.StatusNotRun},
		{Name: "scale blue", Status: pipeline.StatusNotRun},
		{Name: "unlock", Status: pipeline.StatusNotRun},
	}

	// A failed first contact: the lock was never taken, nothing ran.
	refused := base
	refused.Outcome, refused.PreviousColor, refused.ActiveColor = report.Failed, "unknown", "unknown"
	refused.Error = `lock: reading lease "shop-bluegreen-lock": Get "https://127.0.0.1:6443/apis/coordination.k8s.io/v1/namespaces/shop/leases/shop-bluegreen-lock": dial tcp 127.0.0.1:6443: connect: connection refused`
	refused.NextStep = "Nothing accepted a connection at 127.0.0.1:6443, the API server the kubeconfig names."
	refused.Steps = []pipeline.Result{
		{Name: "promote image", Status: pipeline.StatusSkipped, Detail: "no promotion configured"},
		{Name: "lock", Status: pipeline.StatusFailed, Duration: 4 * time.Millisecond, Detail: `reading lease "shop-bluegreen-lock": Get "https://127.0.0.1:6443/apis/coordination.k8s.io/v1/namespaces/shop/leases/shop-bluegreen-lock": dial tcp 127.0.0.1:6443: connect: connection refused`},
	}
	for _, name := range []string{"read live state", "deploy idle color", "wait until ready", "point preview", "verify", "migrate before", "switch traffic", "bake and confirm"} {
		refused.Steps = append(refused.Steps, pipeline.Result{Name: name, Status: pipeline.StatusNotRun})
	}

	rolledBack := base
	rolledBack.Outcome, rolledBack.ActiveColor = report.RolledBack, "blue"
	rolledBack.AWSCalls = 35
	rolledBack.Error = "watch green: error rate 12.5% over the 5% threshold"
	rolledBack.Colors = colors("blue", 100, "scaled to 0")
	rolledBack.Colors[1].Ready = 0
	rolledBack.Steps = []pipeline.Result{
		{Name: "lock", Status: pipeline.StatusReverted, Duration: 160 * time.Millisecond},
		{Name: "deploy green", Status: pipeline.StatusReverted, Duration: 64 * time.Second, Detail: "scaled to 0"},
		{Name: "switch traffic", Status: pipeline.StatusReverted, Duration: 1700 * time.Millisecond, Detail: "back to blue 100%"},
		{Name: "watch green", Status: pipeline.StatusFailed, Duration: 2*time.Minute + 3*time.Second, Detail: "error rate 12.5% over the 5% threshold"},
		{Name: "scale blue", Status: pipeline.StatusNotRun},
	}
	rolledBack.Traffic = []report.TrafficPoint{
		{At: started.Add(time.Second), Blue: 100, Step: "read live state"},
		{At: started.Add(66 * time.Second), Blue: 50, Green: 50, Step: "switch traffic 50%"},
		{At: started.Add(80 * time.Second), Blue: 100, Step: "switch traffic (put back)"},
	}

	dryRun := base
	dryRun.Outcome, dryRun.DryRun, dryRun.ActiveColor = report.Success, true, "green"
	dryRun.Image, dryRun.Digest = "ghcr.io/acme/shop:1.4.3", ""
	dryRun.Finished = started.Add(2400 * time.Millisecond)
	dryRun.Steps = []pipeline.Result{
		{Name: "validate", Status: pipeline.StatusOK, Duration: 300 * time.Millisecond},
		{Name: "deploy green", Status: pipeline.StatusSkipped, Detail: "dry run: would deploy 3 replicas"},
		{Name: "switch traffic", Status: pipeline.StatusSkipped, Detail: "dry run: would move 100% to green"},
	}
	dryRun.Notes = []string{
		"would create deployment shop-green with image ghcr.io/acme/shop:1.4.3",
		"would change service shop selector color=blue → color=green",
		"annotation <none> | would be set\nsecond line",
	}

	return map[string]report.Result{
		"success":     success,
		"failed":      failed,
		"refused":     refused,
		"rolled-back": rolledBack,
		"dry-run":     dryRun,
	}
}

func TestSummaryGolden(t *testing.T) {
	t.Parallel()
	for name, r := range sampleResults() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testkit.Golden(t, "summary-"+name+".golden", []byte(summary(r)))
		})
	}
}

// TestSummaryErrorOnce: a failed run's error appears once in its summary,
// in the error block, not again in the cells of the steps it came from.
func TestSummaryErrorOnce(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"failed", "refused"} {
		r := sampleResults()[name]
		s := summary(r)
		table, _, ok := strings.Cut(s, "#### Error")
		if !ok {
			t.Fatalf("%s: summary has no error block:\n%s", name, s)
		}
		for _, step := range r.Steps {
			if step.Status == pipeline.StatusNotRun {
				if strings.Contains(s, "| "+step.Name+" |") {
					t.Errorf("%s: step %q that never ran has a row of its own:\n%s", name, step.Name, s)
				}
				continue
			}
			if step.Status != pipeline.StatusFailed && step.Status != pipeline.StatusRevertFailed {
				continue
			}
			if got := strings.Count(table, inline(step.Detail)); got > 0 {
				t.Errorf("%s: detail of %q repeated in its cell %d times:\n%s", name, step.Name, got, s)
			}
		}
	}
}

func TestSummaryEscapes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		in   string
		want string
	}{
		{"pipe", "a|b", `a\|b`},
		{"newline", "a\nb\r\nc", "a<br>b<br>c"},
		{"html", "<script>&", "&lt;script&gt;&amp;"},
		{"backslash before pipe", `a\|b`, `a\\\|b`},
		{"link", "[text](https://evil.example/x)", `\[text\](https://evil.example/x)`},
		{"image", "![img](https://evil.example/p.png)", `\!\[img\](https://evil.example/p.png)`},
		{"emphasis and code", "*a* _b_ `c` ~d~", "\\*a\\* \\_b\\_ \\`c\\` \\~d\\~"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got, want := inline(tc.in), tc.want; got != want {
				t.Errorf("inline(%q) = %q, want %q", tc.in, got, want)
			}
		})
	}
}

func TestSummaryErrorFence(t *testing.T) {
	t.Parallel()
	r := report.Result{Command: "deploy", App: "shop", Outcome: report.Failed, Error: "a\n````\nb"}
	s := summary(r)
	if got, want := strings.Contains(s, "`````\na\n````\nb\n`````\n"), true; got != want {
		t.Errorf("error block not fenced longer than its content:\n%s", s)
	}
}

func TestSummaryTooLong(t *testing.T) {
	t.Parallel()
	r := report.Result{Command: "history", App: "shop", Outcome: report.Success}
	for range 20000 {
		r.Notes = append(r.Notes, strings.Repeat("n", 100))
	}
	s := summary(r)
	if got, want := len(s) <= maxSummary, true; got != want {
		t.Errorf("summary is %d bytes, want at most %d", len(s), maxSummary)
	}
	if got, want := strings.Contains(s, "20000 notes left out"), true; got != want {
		t.Errorf("summary does not say notes were left out:\n%s", s)
	}
	if got, want := len(r.Notes), 20000; got != want {
		t.Errorf("summary changed the caller's notes: %d notes, want %d", got, want)
	}
}

func TestFormatDuration(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   time.Duration
		want string
	}{
		{0, "0s"},
		{400 * time.Microsecond, "<1ms"},
		{340 * time.Millisecond, "340ms"},
		{999700 * time.Microsecond, "1s"},
		{1234 * time.Millisecond, "1.2s"},
		{5 * time.Second, "5s"},
		{59970 * time.Millisecond, "1m"},
		{123 * time.Second, "2m3s"},
		{130 * time.Second, "2m10s"},
		{2 * time.Minute, "2m"},
		{time.Hour + 5*time.Minute + 20*time.Second, "1h5m"},
		{3 * time.Hour, "3h"},
	}
	for _, tc := range cases {
		if got, want := report.FormatDuration(tc.in), tc.want; got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", tc.in, got, want)
		}
	}
}
