package deploy_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/bluegreen-dev/bluegreen-action/internal/deploy"
	"github.com/bluegreen-dev/bluegreen-action/internal/history/taskdef"
	"github.com/bluegreen-dev/bluegreen-action/internal/lock"
	"github.com/bluegreen-dev/bluegreen-action/internal/lock/ecstag"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
)

// otherClaim is the lock tag as a run that took the lock over wrote it.
const otherClaim = "token=OTHERRUNOTHERRUNOTHERRUNOT expires=4102444800 since=4102444740 lease=60 owner=https://ci.example.com/other-run"

// TestLockTakenOverECS: another run takes the deploy lock over while this
// one runs. This run must stop once it knows (a renewal sees the other
// claim, or the check right before a write does), write nothing more (no
// listener write, no revert, no scaling, no history), fail, and say who
// holds the lock and what each color runs.
func TestLockTakenOverECS(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// renew is the lock's renewal interval: short, a renewal sees the
		// takeover during the bake; long, only the check before the
		// switch can.
		renew    time.Duration
		during   string // "verify" or "bake": when the takeover happens
		switched bool   // traffic had moved to green before the takeover
	}{
		{name: "seen by renewal during the bake", renew: 10 * time.Millisecond, during: "bake", switched: true},
		{name: "seen by the check before the switch", renew: 50 * time.Second, during: "verify"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := newAWSGround(t)
			h, err := taskdef.New(g.ecs, "shop")
			if err != nil {
				t.Fatal(err)
			}
			g.history = h
			g.locker, err = ecstag.New(ecstag.Config{API: g.ecs, ClusterARN: g.ecs.ClusterARN("prod"), App: "shop"},
				ecstag.WithRenew(tc.renew), ecstag.WithSettle(10*time.Millisecond), ecstag.WithPoll(10*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}

			// The takeover, at the first request to the URL of its step;
			// what the run wrote until then is noted.
			var mu sync.Mutex
			var modifies int
			var entries int
			var taken atomic.Bool
			takeOver := func() {
				mu.Lock()
				defer mu.Unlock()
				if taken.Swap(true) {
					return
				}
				modifies, entries = g.elb.Count("ModifyListener"), len(mustList(t, h))
				if _, err := g.ecs.TagResource(t.Context(), &awsecs.TagResourceInput{
					ResourceArn: aws.String(g.ecs.ClusterARN("prod")),
					Tags:        []types.Tag{{Key: aws.String(ecstag.Key("shop")), Value: aws.String(otherClaim)}},
				}); err != nil {
					t.Error(err)
				}
			}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.TrimPrefix(r.URL.Path, "/") == tc.during {
					takeOver()
				}
			}))
			defer srv.Close()

			res, err, log := g.run("deploy", "shop:v2", func(o *deploy.Options) {
				o.Owner = "https://ci.example.com/this-run"
				o.VerifyURL, o.ProductionURL = srv.URL+"/verify", srv.URL+"/bake"
				o.BakeTime, o.ScaleDownAfter, o.Grace = time.Minute, time.Millisecond, time.Second
			})
			if !taken.Load() {
				t.Fatalf("the lock was never taken over; the test proves nothing\n%s", log)
			}
			if !errors.Is(err, lock.ErrLost) {
				t.Fatalf("error = %v, want the lock's loss\n%s", err, log)
			}
			for _, want := range []string{"https://ci.example.com/other-run", "wrote nothing more", "blue runs shop:v1", "green runs shop:v2"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not say %q: %v", want, err)
				}
			}
			if got, want := res.Outcome, report.Failed; got != want {
				t.Errorf("outcome %q, want %q", got, want)
			}
			mu.Lock()
			defer mu.Unlock()
			if got := g.elb.Count("ModifyListener"); got != modifies {
				t.Errorf("the listener was written %d times after the takeover, want none\n%s", got-modifies, log)
			}
			if got := len(mustList(t, h)); got != entries {
				t.Errorf("history has %d entries after the takeover, %d before, want no new one", got, entries)
			}
			b, gr := g.weights()
			if switched := gr > 0 && b == 0; switched != tc.switched {
				t.Errorf("listener weights blue %d green %d; want traffic left where the takeover found it (on green: %v)", b, gr, tc.switched)
			}
			if blue := g.ecs.Service("prod", "shop-blue"); blue.DesiredCount != 2 {
				t.Errorf("blue scaled to %d after the takeover, want it left at 2", blue.DesiredCount)
			}
			tags := g.ecs.ClusterTags("prod")
			if diff := cmp.Diff(otherClaim, tags[ecstag.Key("shop")]); diff != "" {
				t.Errorf("the other run's claim changed (-want +got):\n%s", diff)
			}
		})
	}
}
