package elb

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsfake"
	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/router"
)

var _ elbAPI = (*awsfake.ELB)(nil)

const (
	lbName = "web"
	cert   = "arn:aws:acm:eu-west-1:123456789012:certificate/0b1c"
	tls12  = "ELBSecurityPolicy-TLS-1-2-2017-01"
)

// clock is a fake clock shared by the router and the double: sleeping
// moves it forward at once, so waits of minutes take no time.
type clock struct {
	mu      sync.Mutex
	t       time.Time
	sleeps  int
	onSleep func(n int) // called after the n-th sleep, outside the lock
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return context.Cause(ctx)
	}
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.sleeps++
	n, hook := c.sleeps, c.onSleep
	c.mu.Unlock()
	if hook != nil {
		hook(n)
	}
	return ctx.Err()
}

func listener(lbPort int32, proto string, instancePort int32, certID string, policies ...string) types.ListenerDescription {
	l := &types.Listener{LoadBalancerPort: lbPort, Protocol: aws.String(proto), InstanceProtocol: aws.String("HTTP"), InstancePort: aws.Int32(instancePort)}
	if certID != "" {
		l.SSLCertificateId = aws.String(certID)
	}
	return types.ListenerDescription{Listener: l, PolicyNames: policies}
}

// shop is a load balancer with blue live on 31001 and green on 31002;
// both ports answer health checks. Its health check needs 25s to judge a
// port (2 x 10s + 5s).
func shop() awsfake.ELBLoadBalancer {
	return awsfake.ELBLoadBalancer{
		Name: lbName,
		Tags: map[string]string{"blue": "31001", "green": "31002", "team": "shop"},
		Listeners: []types.ListenerDescription{
			listener(80, "HTTP", 31001, ""),
			listener(443, "HTTPS", 31001, cert, tls12),
		},
		HealthCheck: types.HealthCheck{
			Target: aws.String("HTTP:31001/healthz"), Interval: aws.Int32(10), Timeout: aws.Int32(5),
			HealthyThreshold: aws.Int32(2), UnhealthyThreshold: aws.Int32(2),
		},
		Instances:    []string{"i-1", "i-2", "i-3"},
		HealthyPorts: []int32{31001, 31002},
	}
}

func setup(t *testing.T, lb awsfake.ELBLoadBalancer, opts ...Option) (*Router, *awsfake.ELB, *clock) {
	t.Helper()
	c := newClock()
	f := awsfake.NewELB()
	f.Now = c.Now
	f.AddLoadBalancer(lb)
	opts = append([]Option{WithPoll(3 * time.Second), WithTimeout(5 * time.Minute), WithClock(c.Now), WithSleep(c.Sleep)}, opts...)
	r, err := New(Config{API: f, LoadBalancerName: lbName}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return r, f, c
}

func TestRead(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		edit    func(*awsfake.ELBLoadBalancer)
		ports   []int32 // listener-ports; none: every listener to a color's port
		want    router.Weights
		wantErr string
		tagErr  string // the tag a *TagError names
	}{
		{name: "blue live", want: router.All(color.Blue)},
		{
			name: "green live",
			edit: func(lb *awsfake.ELBLoadBalancer) {
				lb.Listeners = []types.ListenerDescription{listener(80, "HTTP", 31002, ""), listener(443, "HTTPS", 31002, cert)}
			},
			want: router.All(color.Green),
		},
		{
			name: "switch stopped halfway reads as a split",
			edit: func(lb *awsfake.ELBLoadBalancer) { lb.Listeners[0] = listener(80, "HTTP", 31002, "") },
			want: router.Weights{color.Blue: 50, color.Green: 50},
		},
		{
			name: "only a port-80 listener",
			edit: func(lb *awsfake.ELBLoadBalancer) { lb.Listeners = lb.Listeners[:1] },
			want: router.All(color.Blue),
		},
		{
			name: "a listener on neither port 80 nor 443",
			edit: func(lb *awsfake.ELBLoadBalancer) {
				lb.Listeners = []types.ListenerDescription{listener(8080, "HTTP", 31002, "")}
			},
			want: router.All(color.Green),
		},
		{
			name: "other listeners are not ours",
			edit: func(lb *awsfake.ELBLoadBalancer) {
				lb.Listeners = append(lb.Listeners, listener(8080, "HTTP", 30000, ""))
			},
			want: router.All(color.Blue),
		},
		{
			name: "a listener to neither color is left alone",
			edit: func(lb *awsfake.ELBLoadBalancer) { lb.Listeners[1] = listener(443, "HTTPS", 30000, cert) },
			want: router.All(color.Blue),
		},
		{
			name:    "a named port to neither color",
			ports:   []int32{80, 443},
			edit:    func(lb *awsfake.ELBLoadBalancer) { lb.Listeners[1] = listener(443, "HTTPS", 30000, cert) },
			wantErr: `load balancer "web": listener 443 forwards to instance port 30000, which is neither blue (31001) nor green (31002) by its tags`,
		},
		{
			name: "no listener to a color's port",
			edit: func(lb *awsfake.ELBLoadBalancer) {
				lb.Listeners = []types.ListenerDescription{listener(8080, "HTTP", 30000, "")}
			},
			wantErr: `load balancer "web" has no listener that forwards to blue's instance port 31001 or green's 31002`,
		},
		{
			name:    "green tag missing",
			edit:    func(lb *awsfake.ELBLoadBalancer) { delete(lb.Tags, "green") },
			wantErr: `load balancer "web": tag "green" is missing: it must hold the instance port of the green color`,
			tagErr:  "green",
		},
		{
			name:    "blue tag not a number",
			edit:    func(lb *awsfake.ELBLoadBalancer) { lb.Tags["blue"] = "http" },
			wantErr: `load balancer "web": tag "blue" holds "http", not an instance port (1-65535)`,
			tagErr:  "blue",
		},
		{
			name:    "tag out of range",
			edit:    func(lb *awsfake.ELBLoadBalancer) { lb.Tags["green"] = "70000" },
			wantErr: `tag "green" holds "70000", not an instance port`,
			tagErr:  "green",
		},
		{
			name:    "both tags hold the same port",
			edit:    func(lb *awsfake.ELBLoadBalancer) { lb.Tags["green"] = "31001" },
			wantErr: `load balancer "web": tag "green" holds port 31001, the same as tag "blue"; each color needs its own instance port`,
			tagErr:  "green",
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
			if tc.ports != nil {
				var err error
				if r, err = New(Config{API: f, LoadBalancerName: lbName, ListenerPorts: tc.ports}); err != nil {
					t.Fatal(err)
				}
			}
			got, err := r.Read(t.Context())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Read() error = %v, want it to contain %q", err, tc.wantErr)
				}
				var te *TagError
				if got, want := errors.As(err, &te), tc.tagErr != ""; got != want {
					t.Fatalf("errors.As(%v, *TagError) = %t, want %t", err, got, want)
				}
				if te != nil && te.Tag != tc.tagErr {
					t.Errorf("TagError.Tag = %q, want %q", te.Tag, tc.tagErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Read() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	t.Parallel()
	t.Run("named port missing", func(t *testing.T) {
		t.Parallel()
		_, f, _ := setup(t, shop())
		r, err := New(Config{API: f, LoadBalancerName: lbName, ListenerPorts: []int32{80, 8443}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.Read(t.Context())
		var le *ListenerError
		if !errors.As(err, &le) || le.Port != 8443 || !strings.Contains(err.Error(), `load balancer "web" has no listener on port 8443`) {
			t.Errorf("Read() error = %v, want a *ListenerError for port 8443", err)
		}
	})
	t.Run("load balancer not found", func(t *testing.T) {
		t.Parallel()
		_, f, _ := setup(t, shop())
		r, err := New(Config{API: f, LoadBalancerName: "nope"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.Read(t.Context())
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "LoadBalancerNotFound" {
			t.Fatalf("Read() error = %v, want code LoadBalancerNotFound", err)
		}
		if !strings.Contains(err.Error(), `describing load balancer "nope"`) {
			t.Errorf("Read() error = %v, want it to say what was being done", err)
		}
	})
}

func TestVerify(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		edit        func(*awsfake.ELB, *clock)
		c           color.Color
		wantErr     string
		unsupported bool
	}{
		{name: "health check probes the color, all InService", c: color.Blue},
		{
			name: "health check probes the other color", c: color.Green,
			wantErr: `load balancer "web": the health check probes port 31001, not green's port 31002`, unsupported: true,
		},
		{
			name: "an instance failing the health check",
			edit: func(f *awsfake.ELB, c *clock) {
				f.SetHealthy(lbName, 31001, false, "i-2")
				_ = c.Sleep(context.Background(), time.Minute)
			},
			c:       color.Blue,
			wantErr: `1 of 3 instances are not InService on blue's port 31001: i-2 OutOfService (Instance: Instance has failed at least the UnhealthyThreshold number of health checks consecutively.)`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, f, c := setup(t, shop())
			if tc.edit != nil {
				tc.edit(f, c)
			}
			err := r.Verify(t.Context(), tc.c)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Verify() error = %v, want it to contain %q", err, tc.wantErr)
			}
			if got := errors.Is(err, errors.ErrUnsupported); got != tc.unsupported {
				t.Errorf("errors.Is(%v, ErrUnsupported) = %t, want %t", err, got, tc.unsupported)
			}
		})
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	f := awsfake.NewELB()
	cases := []struct {
		name string
		cfg  Config
		opts []Option
		want string
	}{
		{name: "no client", cfg: Config{LoadBalancerName: lbName}, want: "no ELB client"},
		{name: "no name", cfg: Config{API: f}, want: "no load balancer name"},
		{name: "port out of range", cfg: Config{API: f, LoadBalancerName: lbName, ListenerPorts: []int32{0}}, want: "listener port 0 is not a port"},
		{name: "port twice", cfg: Config{API: f, LoadBalancerName: lbName, ListenerPorts: []int32{80, 80}}, want: "listener port 80 given twice"},
		{name: "zero timeout", cfg: Config{API: f, LoadBalancerName: lbName}, opts: []Option{WithTimeout(0)}, want: "must be positive"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := New(tc.cfg, tc.opts...); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New() error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
