package awsfake

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
)

const (
	testListener = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/shop/1/2"
	testBlue     = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/shop-blue/1"
	testGreen    = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/shop-green/2"
)

func newLB(t *testing.T) *ELBv2 {
	t.Helper()
	f := NewELBv2()
	f.AddTargetGroup(testBlue, testGreen)
	auth := types.Action{Type: types.ActionTypeEnumAuthenticateOidc, Order: aws.Int32(1)}
	fwd := types.Action{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(testBlue), Order: aws.Int32(2)}
	if err := f.AddListener(testListener, auth, fwd); err != nil {
		t.Fatal(err)
	}
	return f
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestModifyListenerReplacesDefaultActions(t *testing.T) {
	t.Parallel()
	f := newLB(t)
	_, err := f.ModifyListener(t.Context(), &elbv2.ModifyListenerInput{
		ListenerArn:    aws.String(testListener),
		DefaultActions: []types.Action{Forward(testBlue, 10, testGreen, 90)},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := f.DefaultActions(testListener)
	if len(got) != 1 || got[0].Type != types.ActionTypeEnumForward {
		t.Fatalf("default actions after modify: %+v, want the forward alone (the OIDC action replaced)", got)
	}
	if got[0].TargetGroupArn != nil {
		t.Errorf("a two-group forward carries TargetGroupArn %q", *got[0].TargetGroupArn)
	}
	if s := got[0].ForwardConfig.TargetGroupStickinessConfig; s == nil || aws.ToBool(s.Enabled) {
		t.Errorf("stickiness = %+v, want stored as disabled", s)
	}
}

func TestModifyListenerErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		listener string
		actions  []types.Action
		code     string
	}{
		{name: "weight 1000", listener: testListener, actions: []types.Action{Forward(testBlue, 1000, testGreen, 0)}, code: "ValidationError"},
		{name: "negative weight", listener: testListener, actions: []types.Action{Forward(testBlue, -1, testGreen, 1)}, code: "ValidationError"},
		{name: "unknown listener", listener: testListener + "x", actions: []types.Action{Forward(testBlue, 1)}, code: "ListenerNotFound"},
		{name: "unknown target group", listener: testListener, actions: []types.Action{Forward(testBlue, 1, testGreen+"x", 1)}, code: "TargetGroupNotFound"},
		{name: "empty actions", listener: testListener, actions: []types.Action{}, code: "ValidationError"},
		{name: "arn and config disagree", listener: testListener, actions: []types.Action{{
			Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(testGreen),
			ForwardConfig: Forward(testBlue, 1).ForwardConfig,
		}}, code: "InvalidLoadBalancerAction"},
		{name: "stickiness without duration", listener: testListener, actions: []types.Action{{
			Type: types.ActionTypeEnumForward, ForwardConfig: &types.ForwardActionConfig{
				TargetGroups:                Forward(testBlue, 1).ForwardConfig.TargetGroups,
				TargetGroupStickinessConfig: &types.TargetGroupStickinessConfig{Enabled: aws.Bool(true)},
			},
		}}, code: "ValidationError"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newLB(t)
			before := f.DefaultActions(testListener)
			_, err := f.ModifyListener(t.Context(), &elbv2.ModifyListenerInput{ListenerArn: aws.String(tc.listener), DefaultActions: tc.actions})
			if got := code(err); got != tc.code {
				t.Fatalf("error code %q (%v), want %q", got, err, tc.code)
			}
			var oe *smithy.OperationError
			if !errors.As(err, &oe) || oe.Operation() != "ModifyListener" {
				t.Errorf("error %v is not an operation error of ModifyListener", err)
			}
			if diff := cmp.Diff(before, f.DefaultActions(testListener), cmp.AllowUnexported(types.Action{}, types.ForwardActionConfig{}, types.TargetGroupTuple{}, types.TargetGroupStickinessConfig{})); diff != "" {
				t.Errorf("a refused modify changed the listener (-before +after):\n%s", diff)
			}
		})
	}
	var nf *types.ListenerNotFoundException
	_, err := newLB(t).DescribeListeners(t.Context(), &elbv2.DescribeListenersInput{ListenerArns: []string{"nope"}})
	if !errors.As(err, &nf) {
		t.Errorf("DescribeListeners of an unknown ARN: %v, want *types.ListenerNotFoundException", err)
	}
}

func TestTargetHealth(t *testing.T) {
	t.Parallel()
	f := newLB(t)
	f.Register(testBlue, 8080, "10.0.0.1", "10.0.0.2")
	f.Script(testBlue, "10.0.0.1", Checking, Healthy)
	f.SetHealth(testBlue, "10.0.0.2", Unhealthy)
	f.Register(testGreen, 8080, "10.0.1.1")
	f.SetHealth(testGreen, "10.0.1.1", Healthy)

	states := func(group string) string {
		t.Helper()
		out, err := f.DescribeTargetHealth(t.Context(), &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(group)})
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, d := range out.TargetHealthDescriptions {
			s = append(s, aws.ToString(d.Target.Id)+"="+string(d.TargetHealth.State)+"/"+string(d.TargetHealth.Reason))
		}
		return strings.Join(s, " ")
	}
	for _, want := range []string{
		"10.0.0.1=initial/Elb.InitialHealthChecking 10.0.0.2=unhealthy/Target.FailedHealthChecks",
		"10.0.0.1=healthy/ 10.0.0.2=unhealthy/Target.FailedHealthChecks",
		"10.0.0.1=healthy/ 10.0.0.2=unhealthy/Target.FailedHealthChecks",
	} {
		if got := states(testBlue); got != want {
			t.Errorf("blue targets: got %q, want %q", got, want)
		}
	}
	// Green is not used by any listener: the load balancer does not
	// health-check it, whatever its targets would answer.
	if got, want := states(testGreen), "10.0.1.1=unused/Target.NotInUse"; got != want {
		t.Errorf("green targets: got %q, want %q", got, want)
	}
	f.Deregister(testBlue, "10.0.0.2")
	if got, want := states(testBlue), "10.0.0.1=healthy/ 10.0.0.2=draining/Target.DeregistrationInProgress"; got != want {
		t.Errorf("after deregistering: got %q, want %q", got, want)
	}
	f.FinishDraining(testBlue)
	if got, want := states(testBlue), "10.0.0.1=healthy/"; got != want {
		t.Errorf("after draining: got %q, want %q", got, want)
	}
	if _, err := f.DescribeTargetHealth(t.Context(), &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String("nope")}); code(err) != "TargetGroupNotFound" {
		t.Errorf("unknown target group: %v, want TargetGroupNotFound", err)
	}
}

func TestELBv2Faults(t *testing.T) {
	t.Parallel()
	f := newLB(t)
	f.ThrottleEvery(2)
	f.StaleReads(1)
	read := func() (string, error) {
		out, err := f.DescribeListeners(t.Context(), &elbv2.DescribeListenersInput{ListenerArns: []string{testListener}})
		if err != nil {
			return "", err
		}
		a := out.Listeners[0].DefaultActions
		return aws.ToString(a[len(a)-1].ForwardConfig.TargetGroups[0].TargetGroupArn), nil
	}
	if _, err := f.ModifyListener(t.Context(), &elbv2.ModifyListenerInput{ListenerArn: aws.String(testListener), DefaultActions: []types.Action{Forward(testGreen, 1)}}); err != nil {
		t.Fatal(err) // call 1
	}
	if _, err := read(); code(err) != "Throttling" { // call 2
		t.Fatalf("second call: %v, want Throttling", err)
	}
	if got, _ := read(); got != testBlue { // call 3: stale
		t.Errorf("first read after the write: %q, want the stale %q", got, testBlue)
	}
	if _, err := read(); code(err) != "Throttling" { // call 4
		t.Fatalf("fourth call: %v, want Throttling", err)
	}
	if got, _ := read(); got != testGreen { // call 5
		t.Errorf("second read after the write: %q, want %q", got, testGreen)
	}
	if diff := cmp.Diff(map[string]int{"ModifyListener": 1, "DescribeListeners": 4}, f.ByOperation()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}
