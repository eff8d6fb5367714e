package elb

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsfake"
	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/router"
)

var ignoreAt = cmpopts.IgnoreFields(awsfake.ELBCall{}, "At")

func call(op, detail string) awsfake.ELBCall { return awsfake.ELBCall{Op: op, Detail: detail} }

// toGreen is the complete switch of shop() to green, in order.
var toGreen = []awsfake.ELBCall{
	call("ConfigureHealthCheck", "HTTP:31002/healthz"),
	call("DeleteLoadBalancerListeners", "80"),
	call("CreateLoadBalancerListeners", "80 HTTP -> HTTP:31002"),
	call("DeleteLoadBalancerListeners", "443"),
	call("CreateLoadBalancerListeners", "443 HTTPS -> HTTP:31002 "+cert),
	call("SetLoadBalancerPoliciesOfListener", "443 "+tls12),
}

func TestSetSwitches(t *testing.T) {
	t.Parallel()
	r, f, c := setup(t, shop())
	start := c.Now()
	if err := r.Set(t.Context(), router.All(color.Green)); err != nil {
		t.Fatal(err)
	}
	writes := f.Writes()
	if diff := cmp.Diff(toGreen, writes, ignoreAt); diff != "" {
		t.Fatalf("writes mismatch (-want +got):\n%s", diff)
	}
	// No listener moved before the load balancer could have judged the
	// new port: 2 checks x 10s + 5s.
	if got, want := writes[1].At.Sub(start), 25*time.Second; got < want {
		t.Errorf("first listener moved %s after the health check, want at least %s", got, want)
	}

	lb, _ := f.LoadBalancer(lbName)
	want := []types.ListenerDescription{listener(80, "HTTP", 31002, ""), listener(443, "HTTPS", 31002, cert, tls12)}
	if diff := cmp.Diff(want, lb.Listeners, cmpopts.IgnoreUnexported(types.ListenerDescription{}, types.Listener{})); diff != "" {
		t.Errorf("listeners mismatch (-want +got):\n%s", diff)
	}
	wantHC := shop().HealthCheck
	wantHC.Target = aws.String("HTTP:31002/healthz")
	if diff := cmp.Diff(wantHC, lb.HealthCheck, cmpopts.IgnoreUnexported(types.HealthCheck{})); diff != "" {
		t.Errorf("health check mismatch (-want +got):\n%s", diff)
	}
	got, err := r.Read(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(router.All(color.Green), got); diff != "" {
		t.Errorf("Read() after Set mismatch (-want +got):\n%s", diff)
	}
	if err := r.Verify(t.Context(), color.Green); err != nil {
		t.Errorf("Verify(green) after Set: %v", err)
	}
}

// TestSetDefaultListeners: with no listener ports configured, Set moves
// every listener that forwards to a color's port, whatever its port, and
// leaves a listener to any other instance port alone.
func TestSetDefaultListeners(t *testing.T) {
	t.Parallel()
	lb := shop()
	lb.Listeners = []types.ListenerDescription{
		listener(8443, "HTTPS", 31001, cert, tls12),
		listener(9000, "HTTP", 30000, ""), // an admin port, not the app's
		listener(8080, "HTTP", 31001, ""),
	}
	r, f, _ := setup(t, lb)
	if err := r.Set(t.Context(), router.All(color.Green)); err != nil {
		t.Fatal(err)
	}
	got, _ := f.LoadBalancer(lbName)
	want := map[int32]int32{8080: 31002, 8443: 31002, 9000: 30000}
	for _, ld := range got.Listeners {
		if p := aws.ToInt32(ld.Listener.InstancePort); p != want[ld.Listener.LoadBalancerPort] {
			t.Errorf("listener %d forwards to %d, want %d", ld.Listener.LoadBalancerPort, p, want[ld.Listener.LoadBalancerPort])
		}
	}
	if len(got.Listeners) != len(want) {
		t.Errorf("%d listeners after Set, want %d", len(got.Listeners), len(want))
	}
	w, err := r.Read(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(router.All(color.Green), w); diff != "" {
		t.Errorf("Read() after Set mismatch (-want +got):\n%s", diff)
	}
}

func TestSetWritesOnlyWhatDiffers(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		edit func(*awsfake.ELBLoadBalancer)
		to   color.Color
		want []awsfake.ELBCall
	}{
		{name: "already there", to: color.Blue},
		{
			name: "switch stopped after the first port",
			edit: func(lb *awsfake.ELBLoadBalancer) {
				lb.HealthCheck.Target = aws.String("HTTP:31002/healthz")
				lb.Listeners[0] = listener(80, "HTTP", 31002, "")
			},
			to:   color.Green,
			want: toGreen[3:],
		},
		{
			name: "switch stopped after the health check",
			edit: func(lb *awsfake.ELBLoadBalancer) { lb.HealthCheck.Target = aws.String("HTTP:31002/healthz") },
			to:   color.Green,
			want: toGreen[1:],
		},
		{
			name: "listeners there, health check not",
			edit: func(lb *awsfake.ELBLoadBalancer) {
				lb.Listeners = []types.ListenerDescription{listener(80, "HTTP", 31002, ""), listener(443, "HTTPS", 31002, cert, tls12)}
			},
			to:   color.Green,
			want: toGreen[:1],
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			lb := shop()
			if tc.edit != nil {
				tc.edit(&lb)
			}
			r, f, _ := setup(t, lb)
			if err := r.Set(t.Context(), router.All(tc.to)); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, f.Writes(), ignoreAt, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("writes mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSetUnhealthy covers a new color that does not pass the health
// check: the health check is put back and no listener is touched.
func TestSetUnhealthy(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		edit    func(*awsfake.ELBLoadBalancer, *awsfake.ELB)
		wantErr string
		before  time.Duration // the health check is back this soon
	}{
		{
			name: "instances drop out under the new health check",
			edit: func(_ *awsfake.ELBLoadBalancer, f *awsfake.ELB) { f.SetHealthy(lbName, 31002, false) },
			wantErr: `load balancer "web": the health check on green's port 31002 took 3 instances out of service, and the live traffic with them: ` +
				`i-1, i-2, i-3 OutOfService (Instance: Instance has failed at least the UnhealthyThreshold number of health checks consecutively.); ` +
				`the health check is back on "HTTP:31001/healthz" and no listener was moved`,
			before: 30 * time.Second,
		},
		{
			name: "an instance out of service throughout",
			edit: func(_ *awsfake.ELBLoadBalancer, f *awsfake.ELB) {
				f.SetHealthy(lbName, 31001, false, "i-3")
				f.SetHealthy(lbName, 31002, false, "i-3")
			},
			wantErr: `load balancer "web": green's instances not all InService on port 31002 after 5m0s: i-3 OutOfService (Instance: Instance has failed at least the UnhealthyThreshold number of health checks consecutively.)`,
			before:  6 * time.Minute,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			lb := shop()
			r, f, c := setup(t, lb)
			tc.edit(&lb, f)
			_ = c.Sleep(t.Context(), time.Hour) // let the edits settle
			start := c.Now()
			err := r.Set(t.Context(), router.All(color.Green))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Set() error = %v, want it to contain %q", err, tc.wantErr)
			}
			want := []awsfake.ELBCall{call("ConfigureHealthCheck", "HTTP:31002/healthz"), call("ConfigureHealthCheck", "HTTP:31001/healthz")}
			writes := f.Writes()
			if diff := cmp.Diff(want, writes, ignoreAt); diff != "" {
				t.Fatalf("writes mismatch (-want +got):\n%s", diff)
			}
			if got := writes[1].At.Sub(start); got > tc.before {
				t.Errorf("health check put back after %s, want within %s", got, tc.before)
			}
			got, _ := f.LoadBalancer(lbName)
			if diff := cmp.Diff(lb.Listeners, got.Listeners, cmpopts.IgnoreUnexported(types.ListenerDescription{}, types.Listener{})); diff != "" {
				t.Errorf("listeners changed (-before +after):\n%s", diff)
			}
		})
	}
}

func TestSetWaitsForInstancesComingUp(t *testing.T) {
	t.Parallel()
	r, f, c := setup(t, shop())
	f.SetHealthy(lbName, 31001, false, "i-3") // out of service for blue, fine on green
	_ = c.Sleep(t.Context(), time.Hour)
	if err := r.Set(t.Context(), router.All(color.Green)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(toGreen, f.Writes(), ignoreAt); diff != "" {
		t.Errorf("writes mismatch (-want +got):\n%s", diff)
	}
}

func TestSetRefuses(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		edit    func(*awsfake.ELBLoadBalancer)
		w       router.Weights
		opts    []Option
		wantErr string
		is      error
	}{
		{name: "split", w: router.Weights{color.Blue: 50, color.Green: 50}, wantErr: "asked for blue 50% / green 50%", is: router.ErrSplitUnsupported},
		{name: "nowhere", w: router.Weights{}, wantErr: "asked to send traffic nowhere"},
		{name: "tag missing", edit: func(lb *awsfake.ELBLoadBalancer) { delete(lb.Tags, "blue") }, w: router.All(color.Green), wantErr: `tag "blue" is missing`},
		{
			name: "health check on another port",
			edit: func(lb *awsfake.ELBLoadBalancer) { lb.HealthCheck.Target = aws.String("TCP:10256") },
			w:    router.All(color.Green),
			wantErr: `load balancer "web": health check "TCP:10256" probes port 10256, which is neither blue (31001) nor green (31002); ` +
				`point it at the live color's port so that it moves with the traffic`,
		},
		{
			name:    "health check slower than the timeout",
			w:       router.All(color.Green),
			opts:    []Option{WithTimeout(20 * time.Second)},
			wantErr: `its health check needs 25s to judge a port (UnhealthyThreshold 2 x Interval 10s + Timeout 5s), longer than the wait timeout 20s`,
		},
		{
			name:    "no instances",
			edit:    func(lb *awsfake.ELBLoadBalancer) { lb.Instances = nil },
			w:       router.All(color.Green),
			wantErr: `load balancer "web" has no registered instances: nothing can prove green healthy`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			lb := shop()
			if tc.edit != nil {
				tc.edit(&lb)
			}
			r, f, _ := setup(t, lb, tc.opts...)
			err := r.Set(t.Context(), tc.w)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Set() error = %v, want it to contain %q", err, tc.wantErr)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("Set() error = %v, want it to wrap %v", err, tc.is)
			}
			if got := f.Writes(); len(got) != 0 {
				t.Errorf("Set() wrote %v, want no writes", got)
			}
		})
	}
}

func TestSetThrottled(t *testing.T) {
	t.Parallel()
	r, f, _ := setup(t, shop())
	f.Throttle("DescribeInstanceHealth", 3)
	f.Throttle("CreateLoadBalancerListeners", 2) // right after the delete of 80
	if err := r.Set(t.Context(), router.All(color.Green)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(toGreen, f.Writes(), ignoreAt); diff != "" {
		t.Errorf("writes mismatch (-want +got):\n%s", diff)
	}
	if got, want := f.Count("CreateLoadBalancerListeners"), 4; got != want {
		t.Errorf("CreateLoadBalancerListeners called %d times, want %d", got, want)
	}
}

// TestSetListenerRefused: AWS refuses the new listener on 80 (an instance
// port cannot serve a secure and a plain listener at once); the old
// listener and the health check are put back.
func TestSetListenerRefused(t *testing.T) {
	t.Parallel()
	lb := shop()
	lb.Listeners = append(lb.Listeners, types.ListenerDescription{Listener: &types.Listener{
		LoadBalancerPort: 8443, Protocol: aws.String("SSL"), InstanceProtocol: aws.String("SSL"), InstancePort: aws.Int32(31002), SSLCertificateId: aws.String(cert),
	}})
	r, f, _ := setup(t, lb)
	err := r.Set(t.Context(), router.All(color.Green))
	if err == nil || !strings.Contains(err.Error(), "InvalidConfigurationRequest") || !strings.Contains(err.Error(), "the listener to instance port 31001 was put back") {
		t.Fatalf("Set() error = %v, want InvalidConfigurationRequest and the listener put back", err)
	}
	want := []awsfake.ELBCall{
		call("ConfigureHealthCheck", "HTTP:31002/healthz"),
		call("DeleteLoadBalancerListeners", "80"),
		call("CreateLoadBalancerListeners", "80 HTTP -> HTTP:31001"),
		call("ConfigureHealthCheck", "HTTP:31001/healthz"),
	}
	if diff := cmp.Diff(want, f.Writes(), ignoreAt); diff != "" {
		t.Errorf("writes mismatch (-want +got):\n%s", diff)
	}
}

// TestSetCertificateGone: the certificate of 443 was deleted, so its
// listener cannot be created again. Port 80, already moved, goes back;
// the error says that 443 has no listener.
func TestSetCertificateGone(t *testing.T) {
	t.Parallel()
	r, f, _ := setup(t, shop())
	f.RemoveCertificate(cert)
	err := r.Set(t.Context(), router.All(color.Green))
	for _, want := range []string{`load balancer "web" has NO listener on port 443`, "CertificateNotFound", "the listeners moved before it and the health check are as they were"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("Set() error = %v, want it to contain %q", err, want)
		}
	}
	lb, _ := f.LoadBalancer(lbName)
	want := []types.ListenerDescription{listener(80, "HTTP", 31001, "")}
	if diff := cmp.Diff(want, lb.Listeners, cmpopts.IgnoreUnexported(types.ListenerDescription{}, types.Listener{})); diff != "" {
		t.Errorf("listeners mismatch (-want +got):\n%s", diff)
	}
	if got, want := aws.ToString(lb.HealthCheck.Target), "HTTP:31001/healthz"; got != want {
		t.Errorf("health check = %q, want %q", got, want)
	}
}

func TestSetCancelled(t *testing.T) {
	t.Parallel()
	r, f, c := setup(t, shop())
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	c.onSleep = func(n int) {
		if n == 2 {
			cancel()
		}
	}
	err := r.Set(ctx, router.All(color.Green))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Set() error = %v, want context.Canceled", err)
	}
	want := []awsfake.ELBCall{call("ConfigureHealthCheck", "HTTP:31002/healthz"), call("ConfigureHealthCheck", "HTTP:31001/healthz")}
	if diff := cmp.Diff(want, f.Writes(), ignoreAt); diff != "" {
		t.Errorf("writes mismatch (-want +got):\n%s", diff)
	}
}

// TestSetConflict: someone moves a listener while the switch waits for
// the health check; the switch does not overwrite it.
func TestSetConflict(t *testing.T) {
	t.Parallel()
	r, f, c := setup(t, shop())
	c.onSleep = func(n int) {
		if n != 1 {
			return
		}
		ctx := context.Background()
		in := &elasticloadbalancing.DeleteLoadBalancerListenersInput{LoadBalancerName: aws.String(lbName), LoadBalancerPorts: []int32{80}}
		if _, err := f.DeleteLoadBalancerListeners(ctx, in); err != nil {
			t.Error(err)
		}
		l := listener(80, "HTTP", 31002, "").Listener
		if _, err := f.CreateLoadBalancerListeners(ctx, &elasticloadbalancing.CreateLoadBalancerListenersInput{LoadBalancerName: aws.String(lbName), Listeners: []types.Listener{*l}}); err != nil {
			t.Error(err)
		}
	}
	err := r.Set(t.Context(), router.All(color.Green))
	if !errors.Is(err, router.ErrConflict) {
		t.Fatalf("Set() error = %v, want router.ErrConflict", err)
	}
	writes := f.Writes()
	if got, want := writes[len(writes)-1], call("ConfigureHealthCheck", "HTTP:31001/healthz"); !cmp.Equal(got, want, ignoreAt) {
		t.Errorf("last write = %v, want the health check put back", got)
	}
	if got := f.Count("DeleteLoadBalancerListeners"); got != 1 {
		t.Errorf("DeleteLoadBalancerListeners called %d times, want only the concurrent change", got)
	}
}
