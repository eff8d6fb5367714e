package awsfake

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
)

const elbCert = "arn:aws:iam::123456789012:server-certificate/shop"

func newTestELB(t *testing.T) (*ELB, *time.Time) {
	t.Helper()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f := NewELB()
	f.Now = func() time.Time { return now }
	f.AddLoadBalancer(ELBLoadBalancer{
		Name: "web",
		Tags: map[string]string{"blue": "31001"},
		Listeners: []types.ListenerDescription{
			{Listener: &types.Listener{LoadBalancerPort: 80, Protocol: aws.String("HTTP"), InstanceProtocol: aws.String("HTTP"), InstancePort: aws.Int32(31001)}},
			{Listener: &types.Listener{LoadBalancerPort: 443, Protocol: aws.String("HTTPS"), InstanceProtocol: aws.String("HTTP"), InstancePort: aws.Int32(31001), SSLCertificateId: aws.String(elbCert)}, PolicyNames: []string{"tls12"}},
		},
		HealthCheck: types.HealthCheck{
			Target: aws.String("HTTP:31001/healthz"), Interval: aws.Int32(10), Timeout: aws.Int32(5),
			HealthyThreshold: aws.Int32(3), UnhealthyThreshold: aws.Int32(2),
		},
		Instances:    []string{"i-1", "i-2"},
		HealthyPorts: []int32{31001},
	})
	return f, &now
}

func elbCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

func elbHTTPListener(lbPort, instancePort int32) types.Listener {
	return types.Listener{LoadBalancerPort: lbPort, Protocol: aws.String("HTTP"), InstanceProtocol: aws.String("HTTP"), InstancePort: aws.Int32(instancePort)}
}

func TestELBListeners(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	https := func(port int32, proto, cert string) types.Listener {
		return types.Listener{LoadBalancerPort: 443, Protocol: aws.String("HTTPS"), InstanceProtocol: aws.String(proto), InstancePort: aws.Int32(port), SSLCertificateId: aws.String(cert)}
	}
	cases := []struct {
		name     string
		listener types.Listener
		before   func(*ELB)
		wantCode string
	}{
		{name: "same listener again changes nothing", listener: elbHTTPListener(80, 31001)},
		{name: "other instance port on a taken port", listener: elbHTTPListener(80, 31002), wantCode: "DuplicateListener"},
		{name: "new port", listener: elbHTTPListener(8080, 31002)},
		{name: "secure and plain on one instance port", listener: types.Listener{LoadBalancerPort: 8443, Protocol: aws.String("SSL"), InstanceProtocol: aws.String("SSL"), InstancePort: aws.Int32(31001), SSLCertificateId: aws.String(elbCert)}, wantCode: "InvalidConfigurationRequest"},
		{name: "HTTP front, TCP back", listener: types.Listener{LoadBalancerPort: 8080, Protocol: aws.String("HTTP"), InstanceProtocol: aws.String("TCP"), InstancePort: aws.Int32(31002)}, wantCode: "InvalidConfigurationRequest"},
		{
			name: "certificate deleted",
			before: func(f *ELB) {
				_, _ = f.DeleteLoadBalancerListeners(ctx, &elb.DeleteLoadBalancerListenersInput{LoadBalancerName: aws.String("web"), LoadBalancerPorts: []int32{443}})
				f.RemoveCertificate(elbCert)
			},
			listener: https(31001, "HTTP", elbCert),
			wantCode: "CertificateNotFound",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, _ := newTestELB(t)
			if tc.before != nil {
				tc.before(f)
			}
			writes := len(f.Writes())
			_, err := f.CreateLoadBalancerListeners(ctx, &elb.CreateLoadBalancerListenersInput{LoadBalancerName: aws.String("web"), Listeners: []types.Listener{tc.listener}})
			if got := elbCode(err); got != tc.wantCode {
				t.Fatalf("CreateLoadBalancerListeners() error = %v, want code %q", err, tc.wantCode)
			}
			var opErr *smithy.OperationError
			if err != nil && !errors.As(err, &opErr) {
				t.Errorf("error %v is not wrapped in *smithy.OperationError as the client wraps it", err)
			}
			if err != nil && len(f.Writes()) != writes {
				t.Errorf("a refused create was recorded as a write: %v", f.Writes())
			}
		})
	}
}

func TestELBDeleteAndRecreateDropsPolicies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, _ := newTestELB(t)
	del := &elb.DeleteLoadBalancerListenersInput{LoadBalancerName: aws.String("web"), LoadBalancerPorts: []int32{443, 8443}} // 8443 has none: not an error
	if _, err := f.DeleteLoadBalancerListeners(ctx, del); err != nil {
		t.Fatal(err)
	}
	l := types.Listener{LoadBalancerPort: 443, Protocol: aws.String("HTTPS"), InstanceProtocol: aws.String("HTTP"), InstancePort: aws.Int32(31002), SSLCertificateId: aws.String(elbCert)}
	if _, err := f.CreateLoadBalancerListeners(ctx, &elb.CreateLoadBalancerListenersInput{LoadBalancerName: aws.String("web"), Listeners: []types.Listener{l}}); err != nil {
		t.Fatal(err)
	}
	lb, _ := f.LoadBalancer("web")
	if got, want := lb.Listeners[1].PolicyNames, []string{elbDefaultSSLPolicy}; !cmp.Equal(got, want) {
		t.Errorf("recreated listener policies = %v, want the default %v", got, want)
	}
	set := func(names ...string) error {
		_, err := f.SetLoadBalancerPoliciesOfListener(ctx, &elb.SetLoadBalancerPoliciesOfListenerInput{LoadBalancerName: aws.String("web"), LoadBalancerPort: 443, PolicyNames: names})
		return err
	}
	if err := set("tls12"); err != nil {
		t.Fatalf("setting a policy the load balancer defines: %v", err)
	}
	if got := elbCode(set("nope")); got != "PolicyNotFound" {
		t.Errorf("setting an unknown policy: code %q, want PolicyNotFound", got)
	}
	_, err := f.SetLoadBalancerPoliciesOfListener(ctx, &elb.SetLoadBalancerPoliciesOfListenerInput{LoadBalancerName: aws.String("web"), LoadBalancerPort: 9999})
	if got := elbCode(err); got != "ListenerNotFound" {
		t.Errorf("policies of a missing listener: code %q, want ListenerNotFound", got)
	}
}

// TestELBInstanceHealth: states follow the health check only after the
// thresholds.
func TestELBInstanceHealth(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, now := newTestELB(t)
	states := func() []string {
		out, err := f.DescribeInstanceHealth(ctx, &elb.DescribeInstanceHealthInput{LoadBalancerName: aws.String("web")})
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, st := range out.InstanceStates {
			s = append(s, aws.ToString(st.State))
		}
		return s
	}
	point := func(target string) {
		lb, _ := f.LoadBalancer("web")
		hc := lb.HealthCheck
		hc.Target = aws.String(target)
		if _, err := f.ConfigureHealthCheck(ctx, &elb.ConfigureHealthCheckInput{LoadBalancerName: aws.String("web"), HealthCheck: &hc}); err != nil {
			t.Fatal(err)
		}
	}
	in, out := []string{"InService", "InService"}, []string{"OutOfService", "OutOfService"}
	steps := []struct {
		do   func()
		want []string
	}{
		{func() {}, in},
		{func() { point("HTTP:31002/healthz") }, in},              // nothing answers on 31002, but not yet judged
		{func() { *now = now.Add(19 * time.Second) }, in},         // one check short of UnhealthyThreshold 2 x 10s
		{func() { *now = now.Add(time.Second) }, out},             // judged
		{func() { point("HTTP:31001/healthz") }, out},             // back, not yet judged healthy
		{func() { *now = now.Add(29 * time.Second) }, out},        // HealthyThreshold 3 x 10s
		{func() { *now = now.Add(time.Second) }, in},              //
		{func() { f.SetHealthy("web", 31001, false, "i-2") }, in}, // fails from now
		{func() { *now = now.Add(time.Minute) }, []string{"InService", "OutOfService"}},
	}
	for i, s := range steps {
		s.do()
		if diff := cmp.Diff(s.want, states()); diff != "" {
			t.Fatalf("step %d: states mismatch (-want +got):\n%s", i, diff)
		}
	}
}

func TestELBErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, _ := newTestELB(t)
	_, err := f.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{LoadBalancerNames: []string{"nope"}})
	var notFound *types.AccessPointNotFoundException
	if !errors.As(err, &notFound) || elbCode(err) != "LoadBalancerNotFound" {
		t.Errorf("DescribeLoadBalancers(nope) error = %v, want LoadBalancerNotFound", err)
	}
	if _, err := f.DescribeTags(ctx, &elb.DescribeTagsInput{LoadBalancerNames: []string{"web", "nope"}}); elbCode(err) != "LoadBalancerNotFound" {
		t.Errorf("DescribeTags(web, nope) error = %v, want LoadBalancerNotFound", err)
	}

	f.Throttle("DescribeTags", 1)
	_, err = f.DescribeTags(ctx, &elb.DescribeTagsInput{LoadBalancerNames: []string{"web"}})
	if elbCode(err) != "Throttling" || retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) != aws.TrueTernary {
		t.Errorf("throttled DescribeTags error = %v, want Throttling that the SDK counts as throttling", err)
	}
	if _, err := f.DescribeTags(ctx, &elb.DescribeTagsInput{LoadBalancerNames: []string{"web"}}); err != nil {
		t.Errorf("DescribeTags after the throttled call: %v", err)
	}

	bad := []types.HealthCheck{
		{Target: aws.String("HTTP:31001"), Interval: aws.Int32(10), Timeout: aws.Int32(5), HealthyThreshold: aws.Int32(2), UnhealthyThreshold: aws.Int32(2)},
		{Target: aws.String("TCP:31001/x"), Interval: aws.Int32(10), Timeout: aws.Int32(5), HealthyThreshold: aws.Int32(2), UnhealthyThreshold: aws.Int32(2)},
		{Target: aws.String("HTTP:31001/"), Interval: aws.Int32(10), Timeout: aws.Int32(10), HealthyThreshold: aws.Int32(2), UnhealthyThreshold: aws.Int32(2)},
		{Target: aws.String("HTTP:31001/"), Interval: aws.Int32(10), Timeout: aws.Int32(5), HealthyThreshold: aws.Int32(1), UnhealthyThreshold: aws.Int32(2)},
	}
	for _, hc := range bad {
		if _, err := f.ConfigureHealthCheck(ctx, &elb.ConfigureHealthCheckInput{LoadBalancerName: aws.String("web"), HealthCheck: &hc}); elbCode(err) != "ValidationError" {
			t.Errorf("ConfigureHealthCheck(%q, timeout %d, healthy %d) error = %v, want ValidationError", *hc.Target, *hc.Timeout, *hc.HealthyThreshold, err)
		}
	}
	if got := f.Writes(); len(got) != 0 {
		t.Errorf("refused calls were recorded as writes: %v", got)
	}
}
