package alb

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/google/go-cmp/cmp"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsapi"
	"github.com/bluegreen-dev/bluegreen-action/internal/awsfake"
	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/router"
)

const (
	prefix       = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:"
	listenerARN  = prefix + "listener/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2"
	testListener = prefix + "listener/app/shop/50dc6c495c0c9188/0467ef3c8400ae65"
	ruleARN      = prefix + "listener-rule/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee"
	blueTG       = prefix + "targetgroup/shop-blue/73e2d6bc24d8a067"
	greenTG      = prefix + "targetgroup/shop-green/943f017f100becff"
	otherTG      = prefix + "targetgroup/legacy/2453ed029918f21f"
)

var colors = map[color.Color]string{color.Blue: blueTG, color.Green: greenTG}

// newFake returns a load balancer whose listener authenticates, then
// forwards to the given actions' target groups.
func newFake(t *testing.T, forward types.Action) *awsfake.ELBv2 {
	t.Helper()
	f := awsfake.NewELBv2()
	f.AddTargetGroup(blueTG, greenTG, otherTG)
	auth := types.Action{Type: types.ActionTypeEnumAuthenticateOidc, AuthenticateOidcConfig: &types.AuthenticateOidcActionConfig{Issuer: aws.String("https://idp.example")}}
	if err := f.AddListener(listenerARN, auth, forward); err != nil {
		t.Fatal(err)
	}
	if err := f.AddListener(testListener, awsfake.Forward(blueTG, 1)); err != nil {
		t.Fatal(err)
	}
	return f
}

func newRouter(t *testing.T, api API, mod func(*Config), opts ...Option) *Router {
	t.Helper()
	cfg := Config{API: api, ListenerARN: listenerARN, TargetGroups: colors}
	if mod != nil {
		mod(&cfg)
	}
	r, err := New(cfg, append([]Option{WithReadBack(4, time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRead(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		forward types.Action
		want    router.Weights
		wantErr string
	}{
		{name: "single target group", forward: types.Action{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(blueTG)}, want: router.All(color.Blue)},
		{name: "weighted", forward: awsfake.Forward(blueTG, 1, greenTG, 2), want: router.Weights{color.Blue: 33, color.Green: 67}},
		{name: "idle at weight 0", forward: awsfake.Forward(blueTG, 0, greenTG, 999), want: router.All(color.Green)},
		{name: "another group at weight 0", forward: awsfake.Forward(greenTG, 5, otherTG, 0), want: router.All(color.Green)},
		{name: "elsewhere", forward: awsfake.Forward(otherTG, 1), wantErr: "neither the blue target group"},
		{name: "shared with another group", forward: awsfake.Forward(blueTG, 1, otherTG, 1), wantErr: "also forwards to " + otherTG + " (weight 1)"},
		{name: "both at weight 0", forward: awsfake.Forward(blueTG, 0, greenTG, 0), wantErr: "weight 0 to both"},
		{name: "fixed response", forward: types.Action{Type: types.ActionTypeEnumFixedResponse}, wantErr: `its actions are ["authenticate-oidc" "fixed-response"]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRouter(t, newFake(t, tc.forward), nil)
			got, err := r.Read(t.Context())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), listenerARN) {
					t.Fatalf("Read() = %v, %v; want an error naming the listener and containing %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Read() (-want +got):\n%s", diff)
			}
		})
	}
}

// forwardOf returns the weights per target group and the stickiness of
// the listener's forward action as the fake holds it now.
func forwardOf(t *testing.T, f *awsfake.ELBv2, listener string) (map[string]int32, *types.TargetGroupStickinessConfig, []types.ActionTypeEnum) {
	t.Helper()
	weights := map[string]int32{}
	var stick *types.TargetGroupStickinessConfig
	var kinds []types.ActionTypeEnum
	for _, a := range f.DefaultActions(listener) {
		kinds = append(kinds, a.Type)
		if a.Type == types.ActionTypeEnumForward {
			for _, tg := range a.ForwardConfig.TargetGroups {
				weights[aws.ToString(tg.TargetGroupArn)] = aws.ToInt32(tg.Weight)
			}
			stick = a.ForwardConfig.TargetGroupStickinessConfig
		}
	}
	return weights, stick, kinds
}

func TestSet(t *testing.T) {
	t.Parallel()
	sticky := types.Action{Type: types.ActionTypeEnumForward, ForwardConfig: &types.ForwardActionConfig{
		TargetGroups:                awsfake.Forward(blueTG, 1).ForwardConfig.TargetGroups,
		TargetGroupStickinessConfig: &types.TargetGroupStickinessConfig{Enabled: aws.Bool(true), DurationSeconds: aws.Int32(3600)},
	}}
	f := newFake(t, sticky)
	r := newRouter(t, f, nil)

	if err := r.Set(t.Context(), router.Weights{color.Blue: 10, color.Green: 90}); err != nil {
		t.Fatal(err)
	}
	weights, stick, kinds := forwardOf(t, f, listenerARN)
	if diff := cmp.Diff(map[string]int32{blueTG: 10, greenTG: 90}, weights); diff != "" {
		t.Errorf("forward weights (-want +got):\n%s", diff)
	}
	if !aws.ToBool(stick.Enabled) || aws.ToInt32(stick.DurationSeconds) != 3600 {
		t.Errorf("stickiness %+v, want kept enabled for 3600 s", stick)
	}
	if diff := cmp.Diff([]types.ActionTypeEnum{types.ActionTypeEnumAuthenticateOidc, types.ActionTypeEnumForward}, kinds); diff != "" {
		t.Errorf("actions (-want +got), the authentication must be kept:\n%s", diff)
	}
	if got, err := r.Read(t.Context()); err != nil || !got.Equal(router.Weights{color.Blue: 10, color.Green: 90}) {
		t.Errorf("Read() after Set = %v, %v", got, err)
	}

	if err := r.Set(t.Context(), router.All(color.Green)); err != nil {
		t.Fatal(err)
	}
	weights, _, _ = forwardOf(t, f, listenerARN)
	if diff := cmp.Diff(map[string]int32{blueTG: 0, greenTG: 100}, weights); diff != "" {
		t.Errorf("after the switch, the idle group must stay at weight 0 (-want +got):\n%s", diff)
	}

	before := f.Count("ModifyListener")
	if err := r.Set(t.Context(), router.All(color.Green)); err != nil {
		t.Fatal(err)
	}
	if got := f.Count("ModifyListener") - before; got != 0 {
		t.Errorf("Set of the weights already applied wrote %d times, want 0", got)
	}
	if diff := cmp.Diff(map[string]int{"DescribeListeners": 6, "ModifyListener": 2}, f.ByOperation()); diff != "" {
		t.Errorf("API calls (-want +got):\n%s", diff)
	}
}

func TestSetRefusesBadWeights(t *testing.T) {
	t.Parallel()
	for _, w := range []router.Weights{{}, {color.Blue: 60, color.Green: 60}, {color.Blue: -1, color.Green: 101}} {
		f := newFake(t, awsfake.Forward(blueTG, 1))
		err := newRouter(t, f, nil).Set(t.Context(), w)
		if err == nil || f.Count("") != 0 {
			t.Errorf("Set(%v) = %v after %d calls, want an error before any call", w, err, f.Count(""))
		}
	}
}

func TestSetRuleAndPreview(t *testing.T) {
	t.Parallel()
	f := newFake(t, awsfake.Forward(blueTG, 1, greenTG, 0))
	if err := f.AddRule(ruleARN, listenerARN, "10", awsfake.Forward(blueTG, 1)); err != nil {
		t.Fatal(err)
	}
	rule := newRouter(t, f, func(c *Config) { c.RuleARN = ruleARN; c.ListenerARN = "" })
	if err := rule.Set(t.Context(), router.All(color.Green)); err != nil {
		t.Fatal(err)
	}
	if got := f.RuleActions(ruleARN)[0].ForwardConfig.TargetGroups[1]; aws.ToString(got.TargetGroupArn) != greenTG || aws.ToInt32(got.Weight) != 100 {
		t.Errorf("rule forward %+v, want green at 100", got)
	}
	if w, _, _ := forwardOf(t, f, listenerARN); w[blueTG] != 1 {
		t.Errorf("setting the rule changed the listener: %v", w)
	}

	live := newRouter(t, f, func(c *Config) { c.TestListenerARN = testListener })
	preview := live.Preview()
	if preview == nil {
		t.Fatal("Preview() = nil with a test listener")
	}
	if err := preview.Set(t.Context(), router.All(color.Green)); err != nil {
		t.Fatal(err)
	}
	if w, _, _ := forwardOf(t, f, testListener); w[greenTG] != 100 || w[blueTG] != 0 {
		t.Errorf("test listener forwards %v, want green only", w)
	}
	if w, _, _ := forwardOf(t, f, listenerARN); w[blueTG] != 1 || w[greenTG] != 0 {
		t.Errorf("the preview changed the live listener: %v", w)
	}
	if newRouter(t, f, nil).Preview() != nil {
		t.Error("Preview() without a test listener is not nil")
	}
}

func TestSetDryRun(t *testing.T) {
	t.Parallel()
	f := newFake(t, awsfake.Forward(blueTG, 1))
	if err := newRouter(t, f, nil, WithDryRun(true)).Set(t.Context(), router.All(color.Green)); err != nil {
		t.Fatal(err)
	}
	if got := f.Count("ModifyListener"); got != 0 {
		t.Errorf("dry run wrote %d times", got)
	}
	f2 := newFake(t, awsfake.Forward(otherTG, 1))
	if err := newRouter(t, f2, nil, WithDryRun(true)).Set(t.Context(), router.All(color.Green)); err == nil {
		t.Error("dry run accepted a listener that forwards elsewhere")
	}
}

func TestSetFaults(t *testing.T) {
	t.Parallel()
	t.Run("throttled write surfaces", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, awsfake.Forward(blueTG, 1))
		f.ThrottleEvery(2) // the ModifyListener after the first read
		err := newRouter(t, f, nil).Set(t.Context(), router.All(color.Green))
		if !awsapi.IsThrottle(err) || !strings.Contains(err.Error(), "modifying listener "+`"`+listenerARN) {
			t.Fatalf("Set() = %v, want a throttling error that names the listener", err)
		}
	})
	t.Run("throttled read-back is read again", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, awsfake.Forward(blueTG, 1))
		f.ThrottleEvery(3) // the first read-back
		if err := newRouter(t, f, nil).Set(t.Context(), router.All(color.Green)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("stale reads", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, awsfake.Forward(blueTG, 1))
		f.StaleReads(2)
		if err := newRouter(t, f, nil).Set(t.Context(), router.All(color.Green)); err != nil {
			t.Fatal(err)
		}
		if got, want := f.Count("DescribeListeners"), 4; got != want {
			t.Errorf("DescribeListeners calls %d, want %d (read, two stale reads, the good one)", got, want)
		}
	})
	t.Run("never consistent", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, awsfake.Forward(blueTG, 1))
		f.StaleReads(100)
		err := newRouter(t, f, nil).Set(t.Context(), router.All(color.Green))
		if err == nil || !strings.Contains(err.Error(), "still reads blue 100% / green 0% after it was set to blue 0% / green 100% (4 reads)") {
			t.Fatalf("Set() = %v", err)
		}
	})
	t.Run("changed by someone else", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, awsfake.Forward(blueTG, 1))
		err := newRouter(t, meddler{f}, nil).Set(t.Context(), router.All(color.Green))
		if !errors.Is(err, router.ErrConflict) {
			t.Fatalf("Set() = %v, want router.ErrConflict", err)
		}
	})
	t.Run("unknown listener", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, awsfake.Forward(blueTG, 1))
		err := newRouter(t, f, func(c *Config) { c.ListenerARN = listenerARN + "0" }).Set(t.Context(), router.All(color.Green))
		var nf *types.ListenerNotFoundException
		if !errors.As(err, &nf) {
			t.Fatalf("Set() = %v, want ListenerNotFound", err)
		}
	})
}

// meddler is a load balancer on which someone else sets a 50/50 split
// right after every ModifyListener.
type meddler struct{ *awsfake.ELBv2 }

func (m meddler) ModifyListener(ctx context.Context, in *elbv2.ModifyListenerInput, opts ...func(*elbv2.Options)) (*elbv2.ModifyListenerOutput, error) {
	out, err := m.ELBv2.ModifyListener(ctx, in, opts...)
	if err != nil {
		return out, err
	}
	_, err = m.ELBv2.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: in.ListenerArn, DefaultActions: []types.Action{awsfake.Forward(blueTG, 1, greenTG, 1)}})
	return out, err
}

func TestNew(t *testing.T) {
	t.Parallel()
	f := awsfake.NewELBv2()
	cases := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{name: "no client", cfg: Config{ListenerARN: listenerARN, TargetGroups: colors}, wantErr: "no ELBv2 client"},
		{name: "no listener", cfg: Config{API: f, TargetGroups: colors}, wantErr: "no listener or rule"},
		{name: "one color", cfg: Config{API: f, ListenerARN: listenerARN, TargetGroups: map[color.Color]string{color.Blue: blueTG}}, wantErr: "no target group for green"},
		{name: "shared group", cfg: Config{API: f, ListenerARN: listenerARN, TargetGroups: map[color.Color]string{color.Blue: blueTG, color.Green: blueTG}}, wantErr: "share the target group"},
		{name: "listener is a group", cfg: Config{API: f, ListenerARN: blueTG, TargetGroups: colors}, wantErr: "not a listener"},
		{name: "group is not an ARN", cfg: Config{API: f, ListenerARN: listenerARN, TargetGroups: map[color.Color]string{color.Blue: blueTG, color.Green: "shop-green"}}, wantErr: `green target group "shop-green": is not an ARN`},
	}
	for _, tc := range cases {
		if _, err := New(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: New() = %v, want an error containing %q", tc.name, err, tc.wantErr)
		}
	}
}
