package route53

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/google/go-cmp/cmp"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsfake"
	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/router"
)

var _ route53API = (*awsfake.Route53)(nil)

const zoneID = "Z0123456789EXAMPLE"

// clock is a fake clock: sleeping moves it forward at once.
type clock struct {
	mu      sync.Mutex
	t       time.Time
	sleeps  int
	onSleep func(n int)
}

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

func simple(name string, typ types.RRType, value string) types.ResourceRecordSet {
	return types.ResourceRecordSet{Name: aws.String(name), Type: typ, TTL: aws.Int64(300), ResourceRecords: []types.ResourceRecord{{Value: aws.String(value)}}}
}

func weighted(c color.Color, typ types.RRType, value string, weight int64) types.ResourceRecordSet {
	return types.ResourceRecordSet{
		Name: aws.String("shop.example.com."), Type: typ, SetIdentifier: aws.String(string(c)), Weight: aws.Int64(weight),
		TTL: aws.Int64(60), ResourceRecords: []types.ResourceRecord{{Value: aws.String(value)}},
	}
}

// zone returns the records of a zone where blue is live for
// shop.example.com, among records of other names and types.
func zone() []types.ResourceRecordSet {
	return []types.ResourceRecordSet{
		simple("example.com", types.RRTypeTxt, `"v=spf1 -all"`),
		simple("api.example.com", types.RRTypeA, "192.0.2.1"),
		weighted(color.Blue, types.RRTypeA, "192.0.2.10", 100),
		weighted(color.Green, types.RRTypeA, "192.0.2.20", 0),
		simple("shop.example.com", types.RRTypeTxt, `"owner=shop"`),
		simple("www.shop.example.com", types.RRTypeA, "192.0.2.30"),
		simple("zzz.example.com", types.RRTypeA, "192.0.2.40"),
	}
}

type fixture struct {
	r     *Router
	f     *awsfake.Route53
	clock *clock
}

func setup(t *testing.T, records []types.ResourceRecordSet, cfg Config, opts ...Option) fixture {
	t.Helper()
	f := awsfake.NewRoute53()
	f.AddZone(zoneID, "example.com", records...)
	c := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	if cfg.API == nil {
		cfg.API = f
	}
	cfg.HostedZoneID = "/hostedzone/" + zoneID
	if cfg.RecordName == "" {
		cfg.RecordName = "Shop.Example.com"
	}
	opts = append([]Option{WithPoll(2 * time.Second), WithTimeout(time.Minute), WithClock(c.Now), WithSleep(c.Sleep)}, opts...)
	r, err := New(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return fixture{r: r, f: f, clock: c}
}

// edit replaces the records of shop.example.com.
func edit(shop ...types.ResourceRecordSet) []types.ResourceRecordSet {
	var out []types.ResourceRecordSet
	for _, rr := range zone() {
		if aws.ToString(rr.Name) != "shop.example.com." || rr.Type != types.RRTypeA {
			out = append(out, rr)
		}
	}
	return append(out, shop...)
}

func TestRead(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		records []types.ResourceRecordSet
		typ     string
		want    router.Weights
		wantErr string
	}{
		{name: "blue live", records: zone(), want: router.All(color.Blue)},
		{name: "green live, full weight", records: edit(weighted(color.Blue, "A", "192.0.2.10", 0), weighted(color.Green, "A", "192.0.2.20", 255)), want: router.All(color.Green)},
		{name: "both zero is an equal split", records: edit(weighted(color.Blue, "A", "192.0.2.10", 0), weighted(color.Green, "A", "192.0.2.20", 0)), want: router.Weights{color.Blue: 50, color.Green: 50}},
		{name: "a sliver is not nothing", records: edit(weighted(color.Blue, "A", "192.0.2.10", 1), weighted(color.Green, "A", "192.0.2.20", 255)), want: router.Weights{color.Blue: 1, color.Green: 99}},
		{name: "split", records: edit(weighted(color.Blue, "A", "192.0.2.10", 10), weighted(color.Green, "A", "192.0.2.20", 90)), want: router.Weights{color.Blue: 10, color.Green: 90}},
		{
			name:    "dual stack agrees",
			records: append(zone(), weighted(color.Blue, "AAAA", "2001:db8::10", 200), weighted(color.Green, "AAAA", "2001:db8::20", 0)),
			want:    router.All(color.Blue),
		},
		{
			name:    "dual stack disagrees",
			records: append(zone(), weighted(color.Blue, "AAAA", "2001:db8::10", 0), weighted(color.Green, "AAAA", "2001:db8::20", 1)),
			wantErr: `record "shop.example.com.": its A records send blue 100% / green 0% but its AAAA records send blue 0% / green 100%`,
		},
		{
			name:    "record type limits the router",
			records: append(zone(), weighted(color.Blue, "AAAA", "2001:db8::10", 0), weighted(color.Green, "AAAA", "2001:db8::20", 1)),
			typ:     "aaaa",
			want:    router.All(color.Green),
		},
		{
			name:    "green missing",
			records: edit(weighted(color.Blue, "A", "192.0.2.10", 100)),
			wantErr: `record "shop.example.com." A in hosted zone "/hostedzone/Z0123456789EXAMPLE" has no weighted record with set identifier "green"; create it, pointing at the green color`,
		},
		{
			name:    "no weighted records",
			records: edit(),
			wantErr: `hosted zone "/hostedzone/Z0123456789EXAMPLE" has no weighted records "shop.example.com." with set identifiers "blue" and "green"`,
		},
		{
			name:    "a third weighted record takes traffic",
			records: append(zone(), weighted("canary", "A", "192.0.2.99", 5)),
			wantErr: `record "shop.example.com." A also has weighted record "canary" with weight 5`,
		},
		{name: "a third weighted record at zero", records: append(zone(), weighted("canary", "A", "192.0.2.99", 0)), want: router.All(color.Blue)},
		{
			name: "not weighted",
			records: edit(weighted(color.Green, "A", "192.0.2.20", 0), types.ResourceRecordSet{
				Name: aws.String("shop.example.com."), Type: "A", SetIdentifier: aws.String("blue"), Failover: types.ResourceRecordSetFailoverPrimary,
				TTL: aws.Int64(60), ResourceRecords: []types.ResourceRecord{{Value: aws.String("192.0.2.10")}},
			}),
			wantErr: `record "shop.example.com." A "blue" is not a weighted record`,
		},
	}
	for _, tc := range cases {
		for _, page := range []int{0, 1} {
			t.Run(fmt.Sprintf("%s/page size %d", tc.name, page), func(t *testing.T) {
				t.Parallel()
				fx := setup(t, tc.records, Config{RecordType: tc.typ})
				fx.f.PageSize = page
				got, err := fx.r.Read(t.Context())
				if tc.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
						t.Fatalf("Read() error = %v, want it to contain %q", err, tc.wantErr)
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
}

// TestReadPages: with one record per page, the router follows the
// Next* markers to the records of its name and stops after them.
func TestReadPages(t *testing.T) {
	t.Parallel()
	fx := setup(t, append(zone(), weighted(color.Blue, "AAAA", "2001:db8::10", 1), weighted(color.Green, "AAAA", "2001:db8::20", 0)), Config{})
	fx.f.PageSize = 1
	got, err := fx.r.Read(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(router.All(color.Blue), got); diff != "" {
		t.Errorf("Read() mismatch (-want +got):\n%s", diff)
	}
	// shop A blue, A green, AAAA blue, AAAA green, TXT, then www.shop: past.
	if got, want := fx.f.Count("ListResourceRecordSets"), 6; got != want {
		t.Errorf("ListResourceRecordSets called %d times, want %d", got, want)
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	withCheck := zone()
	withCheck[3].HealthCheckId = aws.String("hc-green")
	cases := []struct {
		name        string
		records     []types.ResourceRecordSet
		wantErr     string
		unsupported bool
	}{
		{name: "no health check", records: zone(), wantErr: `record "shop.example.com.": Route 53 cannot tell whether green's endpoint serves`, unsupported: true},
		{name: "health check", records: withCheck, wantErr: `record "shop.example.com." A "green" has Route 53 health check "hc-green", whose status bluegreen does not read`, unsupported: true},
		{name: "record missing", records: edit(weighted(color.Blue, "A", "192.0.2.10", 100)), wantErr: `no weighted record with set identifier "green"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fx := setup(t, tc.records, Config{})
			err := fx.r.Verify(t.Context(), color.Green)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Verify() error = %v, want it to contain %q", err, tc.wantErr)
			}
			if got := errors.Is(err, errors.ErrUnsupported); got != tc.unsupported {
				t.Errorf("errors.Is(%v, ErrUnsupported) = %t, want %t", err, got, tc.unsupported)
			}
		})
	}
}

func TestWarning(t *testing.T) {
	t.Parallel()
	fx := setup(t, zone(), Config{})
	if got := fx.r.Warning(); got != "" {
		t.Errorf("Warning() before any read = %q, want none", got)
	}
	if _, err := fx.r.Read(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got, want := fx.r.TTL(), time.Minute; got != want {
		t.Errorf("TTL() = %s, want %s", got, want)
	}
	if got, want := fx.r.Warning(), "clients may keep the old answer for the record's TTL (60 s); the old color must stay up at least that long"; got != want {
		t.Errorf("Warning() = %q, want %q", got, want)
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	f := awsfake.NewRoute53()
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{name: "no client", cfg: Config{HostedZoneID: zoneID, RecordName: "shop.example.com"}, want: "no Route 53 client"},
		{name: "no zone", cfg: Config{API: f, RecordName: "shop.example.com"}, want: "no hosted zone ID"},
		{name: "no name", cfg: Config{API: f, HostedZoneID: zoneID, RecordName: "."}, want: "no record name"},
		{name: "type", cfg: Config{API: f, HostedZoneID: zoneID, RecordName: "shop.example.com", RecordType: "NS"}, want: `record type "NS" cannot be weighted`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := New(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New() error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
