package gate_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsfake"
	"github.com/bluegreen-dev/bluegreen-action/internal/gate"
	"github.com/bluegreen-dev/bluegreen-action/internal/haproxytest"
)

func TestPrometheusGate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	prom := haproxytest.StartPrometheus(t, time.Second)
	cases := []struct {
		query   string
		value   string
		failing bool
		err     error
	}{
		{query: "vector(0)", value: "0"},
		{query: "vector(0.5) > 1", value: "no samples"},
		{query: "vector(3)", value: "3", failing: true},
		{query: `label_replace(vector(2), "code", "5xx", "", "")`, value: `{code="5xx"} 2`, failing: true},
		{query: "scalar(vector(0))", value: "0"},
		{query: "1", value: "1", failing: true},
		{query: "sum(rate(haproxy_server_http_responses_total[30s]", err: gate.ErrBadQuery},
		{query: `"a string"`, err: gate.ErrBadQuery},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			g := &gate.Prometheus{URL: prom.URL, Query: tc.query}
			r, err := g.Check(ctx)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("Check = %v, want %v", err, tc.err)
				}
				if verr := g.Validate(ctx); !errors.Is(verr, tc.err) {
					t.Errorf("Validate = %v, want %v", verr, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Value != tc.value || r.Failing != tc.failing {
				t.Errorf("Check = %+v, want value %q failing %v", r, tc.value, tc.failing)
			}
		})
	}
	down := &gate.Prometheus{URL: "http://" + haproxytest.FreePort(t), Query: "vector(0)"}
	if err := down.Validate(ctx); !errors.Is(err, gate.ErrUnreachable) {
		t.Errorf("Validate against nothing = %v, want ErrUnreachable", err)
	}
}

func TestAlarmsGate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cw := awsfake.NewCloudWatch()
	var names []string
	// More names than one call may carry, and more alarms than one page.
	for i := 0; i < 120; i++ {
		n := fmt.Sprintf("shop-%03d", i)
		cw.PutAlarm(n, i%10 == 0, cwtypes.StateValueOk)
		names = append(names, n)
	}
	g := &gate.Alarms{API: cw, Names: names}
	if err := g.Validate(ctx); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	r, err := g.Check(ctx)
	if err != nil || r.Failing {
		t.Fatalf("Check = %+v, %v; want passing", r, err)
	}
	cw.SetState("shop-110", cwtypes.StateValueAlarm) // a composite alarm, in the second call
	if r, _ = g.Check(ctx); !r.Failing || !strings.Contains(r.Value, "shop-110=ALARM") {
		t.Errorf("Check with shop-110 in ALARM = %+v", r)
	}
	cw.SetState("shop-110", cwtypes.StateValueInsufficientData)
	if r, _ = g.Check(ctx); r.Failing {
		t.Errorf("INSUFFICIENT_DATA fails the gate: %+v", r)
	}
	bad := &gate.Alarms{API: cw, Names: []string{"shop-001", "shop-typo"}}
	if err := bad.Validate(ctx); !errors.Is(err, gate.ErrUnknownAlarm) || !strings.Contains(err.Error(), "shop-typo") {
		t.Errorf("Validate with an unknown name = %v", err)
	}
}
