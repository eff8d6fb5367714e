package route53

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsfake"
	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/router"
)

var ignoreUnexported = cmpopts.IgnoreUnexported(types.ResourceRecordSet{}, types.ResourceRecord{}, types.AliasTarget{}, types.Change{}, types.ChangeBatch{})

// shop returns the records of shop.example.com in the hosted zone.
func shop(f *awsfake.Route53) []types.ResourceRecordSet {
	var out []types.ResourceRecordSet
	for _, rr := range f.Records(zoneID) {
		if aws.ToString(rr.Name) == "shop.example.com." && rr.SetIdentifier != nil {
			out = append(out, rr)
		}
	}
	return out
}

func TestSet(t *testing.T) {
	t.Parallel()
	alias := func(c color.Color, dns string, weight int64) types.ResourceRecordSet {
		return types.ResourceRecordSet{
			Name: aws.String("shop.example.com."), Type: "A", SetIdentifier: aws.String(string(c)), Weight: aws.Int64(weight), HealthCheckId: aws.String("hc-" + string(c)),
			AliasTarget: &types.AliasTarget{DNSName: aws.String(dns), HostedZoneId: aws.String("Z32O12XQLNTSW2"), EvaluateTargetHealth: true},
		}
	}
	cases := []struct {
		name    string
		records []types.ResourceRecordSet
		w       router.Weights
		want    []types.ResourceRecordSet // shop.example.com's weighted records after
		batches int
	}{
		{
			name:    "all to green",
			records: zone(),
			w:       router.All(color.Green),
			want:    []types.ResourceRecordSet{weighted(color.Blue, "A", "192.0.2.10", 0), weighted(color.Green, "A", "192.0.2.20", 100)},
			batches: 1,
		},
		{
			name:    "a canary step",
			records: zone(),
			w:       router.Weights{color.Blue: 90, color.Green: 10},
			want:    []types.ResourceRecordSet{weighted(color.Blue, "A", "192.0.2.10", 90), weighted(color.Green, "A", "192.0.2.20", 10)},
			batches: 1,
		},
		{
			name:    "already there, in other words",
			records: edit(weighted(color.Blue, "A", "192.0.2.10", 255), weighted(color.Green, "A", "192.0.2.20", 0)),
			w:       router.All(color.Blue),
			want:    []types.ResourceRecordSet{weighted(color.Blue, "A", "192.0.2.10", 255), weighted(color.Green, "A", "192.0.2.20", 0)},
		},
		{
			name:    "alias records keep their targets and health checks",
			records: edit(alias(color.Blue, "blue-123.eu-west-1.elb.amazonaws.com.", 1), alias(color.Green, "green-456.eu-west-1.elb.amazonaws.com.", 1)),
			w:       router.All(color.Green),
			want:    []types.ResourceRecordSet{alias(color.Blue, "blue-123.eu-west-1.elb.amazonaws.com.", 0), alias(color.Green, "green-456.eu-west-1.elb.amazonaws.com.", 100)},
			batches: 1,
		},
		{
			name:    "dual stack in one batch",
			records: append(zone(), weighted(color.Blue, "AAAA", "2001:db8::10", 1), weighted(color.Green, "AAAA", "2001:db8::20", 0)),
			w:       router.All(color.Green),
			want: []types.ResourceRecordSet{
				weighted(color.Blue, "A", "192.0.2.10", 0), weighted(color.Green, "A", "192.0.2.20", 100),
				weighted(color.Blue, "AAAA", "2001:db8::10", 0), weighted(color.Green, "AAAA", "2001:db8::20", 100),
			},
			batches: 1,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fx := setup(t, tc.records, Config{})
			fx.f.SyncAfter = 3
			if err := fx.r.Set(t.Context(), tc.w); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, shop(fx.f), ignoreUnexported); diff != "" {
				t.Errorf("records mismatch (-want +got):\n%s", diff)
			}
			if got := len(fx.f.Batches()); got != tc.batches {
				t.Errorf("%d change batches, want %d", got, tc.batches)
			}
			if tc.batches > 0 {
				if got, want := fx.f.Count("GetChange"), 4; got != want {
					t.Errorf("GetChange called %d times, want %d (3 PENDING, then INSYNC)", got, want)
				}
			}
			got, err := fx.r.Read(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if want := percent(int64(tc.w[color.Blue]), int64(tc.w[color.Green])); !cmp.Equal(got, want) {
				t.Errorf("Read() after Set = %s, want %s", got, want)
			}
		})
	}
}

// TestSetBatch: one batch deletes each record with the values read and
// creates it with the new weight, so that a concurrent change fails it.
func TestSetBatch(t *testing.T) {
	t.Parallel()
	fx := setup(t, zone(), Config{})
	if err := fx.r.Set(t.Context(), router.All(color.Green)); err != nil {
		t.Fatal(err)
	}
	rrs := func(rr types.ResourceRecordSet) *types.ResourceRecordSet { return &rr }
	want := []types.ChangeBatch{{
		Comment: aws.String("bluegreen: blue 0% / green 100%"),
		Changes: []types.Change{
			{Action: "DELETE", ResourceRecordSet: rrs(weighted(color.Blue, "A", "192.0.2.10", 100))},
			{Action: "CREATE", ResourceRecordSet: rrs(weighted(color.Blue, "A", "192.0.2.10", 0))},
			{Action: "DELETE", ResourceRecordSet: rrs(weighted(color.Green, "A", "192.0.2.20", 0))},
			{Action: "CREATE", ResourceRecordSet: rrs(weighted(color.Green, "A", "192.0.2.20", 100))},
		},
	}}
	if diff := cmp.Diff(want, fx.f.Batches(), ignoreUnexported); diff != "" {
		t.Errorf("batches mismatch (-want +got):\n%s", diff)
	}
}

func TestSetRefuses(t *testing.T) {
	t.Parallel()
	managed := zone()
	managed[2].TrafficPolicyInstanceId = aws.String("tpi-1")
	cases := []struct {
		name    string
		records []types.ResourceRecordSet
		w       router.Weights
		wantErr string
	}{
		{name: "not a percentage", records: zone(), w: router.Weights{color.Blue: 150, color.Green: -50}, wantErr: "is not a percentage"},
		{name: "not 100 in all", records: zone(), w: router.Weights{color.Blue: 10, color.Green: 10}, wantErr: "add up to 20%, not 100%"},
		{name: "nowhere", records: zone(), w: router.Weights{}, wantErr: "add up to 0%"},
		{name: "record missing", records: edit(weighted(color.Green, "A", "192.0.2.20", 0)), w: router.All(color.Green), wantErr: `no weighted record with set identifier "blue"`},
		{name: "traffic policy", records: managed, w: router.All(color.Green), wantErr: `is managed by traffic policy instance "tpi-1"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fx := setup(t, tc.records, Config{})
			if err := fx.r.Set(t.Context(), tc.w); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Set() error = %v, want it to contain %q", err, tc.wantErr)
			}
			if got := fx.f.Batches(); len(got) != 0 {
				t.Errorf("Set() wrote %d batches, want none", len(got))
			}
		})
	}
}

func TestSetAWSErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		setup    func(*fixture)
		wantCode string
	}{
		{name: "throttled write", setup: func(fx *fixture) { fx.f.Throttle("ChangeResourceRecordSets", 1) }, wantCode: "Throttling"},
		{name: "prior request", setup: func(fx *fixture) { fx.f.Fail("ChangeResourceRecordSets", &types.PriorRequestNotComplete{}) }, wantCode: "PriorRequestNotComplete"},
		{name: "no such zone", setup: func(fx *fixture) { fx.r.cfg.HostedZoneID = "ZNOPE" }, wantCode: "NoSuchHostedZone"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fx := setup(t, zone(), Config{})
			tc.setup(&fx)
			err := fx.r.Set(t.Context(), router.All(color.Green))
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tc.wantCode {
				t.Fatalf("Set() error = %v, want code %q", err, tc.wantCode)
			}
			if got := fx.f.Batches(); len(got) != 0 {
				t.Errorf("Set() wrote %d batches, want none", len(got))
			}
		})
	}
}

// TestSetWaitFails: when the change does not get INSYNC, or the job is
// stopped while waiting, the old weights are put back.
func TestSetWaitFails(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		cancel  bool
		wantErr string
		is      error
	}{
		{name: "still pending at the timeout", wantErr: `change "/change/C0001" of record "shop.example.com." still PENDING after 1m0s; the weights are back to blue 100% / green 0%`},
		{name: "cancelled", cancel: true, wantErr: "the weights are back to blue 100% / green 0%", is: context.Canceled},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fx := setup(t, zone(), Config{})
			fx.f.SyncAfter = 1000
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			if tc.cancel {
				fx.clock.onSleep = func(n int) {
					if n == 2 {
						cancel()
					}
				}
			}
			err := fx.r.Set(ctx, router.All(color.Green))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Set() error = %v, want it to contain %q", err, tc.wantErr)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("Set() error = %v, want it to wrap %v", err, tc.is)
			}
			want := []types.ResourceRecordSet{weighted(color.Blue, "A", "192.0.2.10", 100), weighted(color.Green, "A", "192.0.2.20", 0)}
			if diff := cmp.Diff(want, shop(fx.f), ignoreUnexported); diff != "" {
				t.Errorf("records mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSetThrottledPolls(t *testing.T) {
	t.Parallel()
	fx := setup(t, zone(), Config{})
	fx.f.SyncAfter = 1
	fx.f.Throttle("GetChange", 3)
	if err := fx.r.Set(t.Context(), router.All(color.Green)); err != nil {
		t.Fatal(err)
	}
	if got, want := fx.f.Count("GetChange"), 5; got != want {
		t.Errorf("GetChange called %d times, want %d (3 throttled, PENDING, INSYNC)", got, want)
	}
}

// racer changes the green record's weight right before the first change
// batch, as another deploy or a person in the console would.
type racer struct {
	*awsfake.Route53
	raced bool
}

func (r *racer) ChangeResourceRecordSets(ctx context.Context, in *r53.ChangeResourceRecordSetsInput, opts ...func(*r53.Options)) (*r53.ChangeResourceRecordSetsOutput, error) {
	if !r.raced {
		r.raced = true
		rr := weighted(color.Green, "A", "192.0.2.20", 50)
		if _, err := r.Route53.ChangeResourceRecordSets(ctx, &r53.ChangeResourceRecordSetsInput{
			HostedZoneId: in.HostedZoneId,
			ChangeBatch:  &types.ChangeBatch{Changes: []types.Change{{Action: types.ChangeActionUpsert, ResourceRecordSet: &rr}}},
		}); err != nil {
			return nil, err
		}
	}
	return r.Route53.ChangeResourceRecordSets(ctx, in, opts...)
}

func TestSetConflict(t *testing.T) {
	t.Parallel()
	fx := setup(t, zone(), Config{})
	f := fx.f
	r, err := New(Config{API: &racer{Route53: f}, HostedZoneID: zoneID, RecordName: "shop.example.com"}, WithClock(fx.clock.Now), WithSleep(fx.clock.Sleep))
	if err != nil {
		t.Fatal(err)
	}
	err = r.Set(t.Context(), router.All(color.Green))
	if !errors.Is(err, router.ErrConflict) {
		t.Fatalf("Set() error = %v, want router.ErrConflict", err)
	}
	want := []types.ResourceRecordSet{weighted(color.Blue, "A", "192.0.2.10", 100), weighted(color.Green, "A", "192.0.2.20", 50)}
	if diff := cmp.Diff(want, shop(f), ignoreUnexported); diff != "" {
		t.Errorf("records mismatch, the concurrent change must stay (-want +got):\n%s", diff)
	}
	// Retried after a fresh read, as the switch step does, it goes through.
	if err := r.Set(t.Context(), router.All(color.Green)); err != nil {
		t.Fatal(err)
	}
}
