package awsfake

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
)

func r53Code(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

func r53A(name, setID string, weight int64) types.ResourceRecordSet {
	rr := types.ResourceRecordSet{Name: aws.String(name), Type: types.RRTypeA, TTL: aws.Int64(60), ResourceRecords: []types.ResourceRecord{{Value: aws.String("192.0.2.1")}}}
	if setID != "" {
		rr.SetIdentifier, rr.Weight = aws.String(setID), aws.Int64(weight)
	}
	return rr
}

func newTestRoute53() *Route53 {
	f := NewRoute53()
	f.AddZone("Z1", "example.com",
		r53A("www.example.com", "", 0),
		r53A("shop.example.com", "green", 0),
		r53A("shop.example.com", "blue", 100),
		types.ResourceRecordSet{Name: aws.String("shop.example.com"), Type: types.RRTypeTxt, TTL: aws.Int64(60), ResourceRecords: []types.ResourceRecord{{Value: aws.String(`"x"`)}}},
		r53A("api.example.com", "", 0),
		r53A("*.example.com", "", 0),
	)
	return f
}

func TestRoute53ListOrderAndPaging(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newTestRoute53()
	f.PageSize = 2
	key := func(rr types.ResourceRecordSet) string {
		return aws.ToString(rr.Name) + " " + string(rr.Type) + " " + aws.ToString(rr.SetIdentifier)
	}
	var got []string
	in := &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String("/hostedzone/Z1")}
	for pages := 0; ; pages++ {
		out, err := f.ListResourceRecordSets(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, rr := range out.ResourceRecordSets {
			got = append(got, key(rr))
		}
		if !out.IsTruncated {
			break
		}
		in.StartRecordName, in.StartRecordType, in.StartRecordIdentifier = out.NextRecordName, out.NextRecordType, out.NextRecordIdentifier
	}
	// Names sort with their labels reversed: com.example.*, com.example.api, ...
	want := []string{
		`\052.example.com. A `,
		"api.example.com. A ",
		"shop.example.com. A blue",
		"shop.example.com. A green",
		"shop.example.com. TXT ",
		"www.example.com. A ",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("listing mismatch (-want +got):\n%s", diff)
	}

	out, err := f.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String("Z1"), StartRecordName: aws.String("SHOP.example.com"), StartRecordType: types.RRTypeA, StartRecordIdentifier: aws.String("green")})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := key(out.ResourceRecordSets[0]), "shop.example.com. A green"; got != want {
		t.Errorf("listing from shop A green starts at %q, want %q", got, want)
	}
	if _, err := f.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String("Z1"), StartRecordType: types.RRTypeA}); r53Code(err) != "InvalidInput" {
		t.Errorf("StartRecordType without StartRecordName: error %v, want InvalidInput", err)
	}
}

func TestRoute53Changes(t *testing.T) {
	t.Parallel()
	up := func(rr types.ResourceRecordSet) types.Change {
		return types.Change{Action: types.ChangeActionUpsert, ResourceRecordSet: &rr}
	}
	del := func(rr types.ResourceRecordSet) types.Change {
		return types.Change{Action: types.ChangeActionDelete, ResourceRecordSet: &rr}
	}
	create := func(rr types.ResourceRecordSet) types.Change {
		return types.Change{Action: types.ChangeActionCreate, ResourceRecordSet: &rr}
	}
	noSetID := r53A("shop.example.com", "green", 10)
	noSetID.SetIdentifier = nil
	cases := []struct {
		name     string
		changes  []types.Change
		wantCode string
	}{
		{name: "upsert a weight", changes: []types.Change{up(r53A("shop.example.com", "green", 10))}},
		{name: "delete and create in one batch", changes: []types.Change{del(r53A("shop.example.com", "blue", 100)), create(r53A("shop.example.com", "blue", 0))}},
		{name: "weighted without set identifier", changes: []types.Change{up(noSetID)}, wantCode: "InvalidChangeBatch"},
		{name: "weight above 255", changes: []types.Change{up(r53A("shop.example.com", "green", 256))}, wantCode: "InvalidChangeBatch"},
		{name: "delete with other values", changes: []types.Change{del(r53A("shop.example.com", "blue", 99))}, wantCode: "InvalidChangeBatch"},
		{name: "delete twice", changes: []types.Change{del(r53A("shop.example.com", "blue", 100)), del(r53A("shop.example.com", "blue", 100))}, wantCode: "InvalidChangeBatch"},
		{name: "create what exists", changes: []types.Change{create(r53A("shop.example.com", "blue", 5))}, wantCode: "InvalidChangeBatch"},
		{name: "mix simple and weighted", changes: []types.Change{up(r53A("shop.example.com", "", 0))}, wantCode: "InvalidChangeBatch"},
		{name: "outside the zone", changes: []types.Change{up(r53A("shop.example.org", "", 0))}, wantCode: "InvalidChangeBatch"},
		{name: "all or nothing", changes: []types.Change{up(r53A("shop.example.com", "green", 10)), up(r53A("shop.example.com", "blue", 300))}, wantCode: "InvalidChangeBatch"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newTestRoute53()
			before := f.Records("Z1")
			_, err := f.ChangeResourceRecordSets(context.Background(), &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String("Z1"), ChangeBatch: &types.ChangeBatch{Changes: tc.changes}})
			if got := r53Code(err); got != tc.wantCode {
				t.Fatalf("ChangeResourceRecordSets() error = %v, want code %q", err, tc.wantCode)
			}
			var invalid *types.InvalidChangeBatch
			if err != nil && (!errors.As(err, &invalid) || len(invalid.Messages) == 0) {
				t.Errorf("error %v is not an InvalidChangeBatch with messages", err)
			}
			if err != nil && !cmp.Equal(before, f.Records("Z1"), cmp.Comparer(func(a, b types.ResourceRecordSet) bool {
				return aws.ToInt64(a.Weight) == aws.ToInt64(b.Weight) && aws.ToString(a.Name) == aws.ToString(b.Name)
			})) {
				t.Errorf("a refused batch changed the records")
			}
		})
	}
}

func TestRoute53GetChange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newTestRoute53()
	f.SyncAfter = 2
	rr := r53A("shop.example.com", "green", 10)
	out, err := f.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String("Z1"), ChangeBatch: &types.ChangeBatch{Changes: []types.Change{{Action: types.ChangeActionUpsert, ResourceRecordSet: &rr}}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := out.ChangeInfo.Status; got != types.ChangeStatusPending {
		t.Errorf("new change is %s, want PENDING", got)
	}
	var got []types.ChangeStatus
	for range 3 {
		c, err := f.GetChange(ctx, &route53.GetChangeInput{Id: out.ChangeInfo.Id})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, c.ChangeInfo.Status)
	}
	if diff := cmp.Diff([]types.ChangeStatus{"PENDING", "PENDING", "INSYNC"}, got); diff != "" {
		t.Errorf("statuses mismatch (-want +got):\n%s", diff)
	}
	if _, err := f.GetChange(ctx, &route53.GetChangeInput{Id: aws.String("/change/CNOPE")}); r53Code(err) != "NoSuchChange" {
		t.Errorf("GetChange(unknown) error = %v, want NoSuchChange", err)
	}
}

func TestRoute53Errors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newTestRoute53()
	if _, err := f.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String("ZNOPE")}); r53Code(err) != "NoSuchHostedZone" {
		t.Errorf("unknown zone: error %v, want NoSuchHostedZone", err)
	}
	f.Throttle("ListResourceRecordSets", 1)
	_, err := f.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String("Z1")})
	var opErr *smithy.OperationError
	if r53Code(err) != "Throttling" || !errors.As(err, &opErr) || retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) != aws.TrueTernary {
		t.Errorf("throttled call: error %v, want a Throttling operation error the SDK counts as throttling", err)
	}
	f.Fail("ChangeResourceRecordSets", &types.PriorRequestNotComplete{Message: aws.String("The request was rejected because Route 53 was still processing a prior request.")})
	rr := r53A("shop.example.com", "green", 10)
	if _, err := f.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String("Z1"), ChangeBatch: &types.ChangeBatch{Changes: []types.Change{{Action: types.ChangeActionUpsert, ResourceRecordSet: &rr}}}}); r53Code(err) != "PriorRequestNotComplete" {
		t.Errorf("injected failure: error %v, want PriorRequestNotComplete", err)
	}
	if got := len(f.Batches()); got != 0 {
		t.Errorf("%d batches accepted, want none", got)
	}
	if got, want := f.Count(""), 3; got != want {
		t.Errorf("%d calls recorded, want %d", got, want)
	}
}
