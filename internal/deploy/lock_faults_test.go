package deploy_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// leaseSeen is one version of the deploy lock's Lease, as a watch saw it.
type leaseSeen struct {
	at              time.Time
	holder          string
	acquired, renew time.Time
	duration        time.Duration
	transitions     int32
}

func (l leaseSeen) String() string {
	h := l.holder
	if h == "" {
		h = "(free)"
	}
	return fmt.Sprintf("%s %s acquired %s renewed %s, %d transitions",
		l.at.Format("15:04:05.000"), h, l.acquired.Format("15:04:05.000"), l.renew.Format("15:04:05.000"), l.transitions)
}

func seen(le *coordinationv1.Lease) leaseSeen {
	s := leaseSeen{at: time.Now()}
	if le.Spec.HolderIdentity != nil {
		s.holder = *le.Spec.HolderIdentity
	}
	if le.Spec.AcquireTime != nil {
		s.acquired = le.Spec.AcquireTime.Time
	}
	if le.Spec.RenewTime != nil {
		s.renew = le.Spec.RenewTime.Time
	}
	if le.Spec.LeaseDurationSeconds != nil {
		s.duration = time.Duration(*le.Spec.LeaseDurationSeconds) * time.Second
	}
	if le.Spec.LeaseTransitions != nil {
		s.transitions = *le.Spec.LeaseTransitions
	}
	return s
}

func concurrentDeploys(t *testing.T, bin, kubeconfig string, g *ground, name, lockTimeout string) {
	ctx := t.Context()
	errorf := func(format string, args ...any) { t.Errorf("%s: "+format, append([]any{name}, args...)...) }
	if err := firstDeploy(ctx, g); err != nil {
		errorf("%v", err)
		return
	}
	view := newCleanView(t, g)
	cur, err := view.coord.Leases(g.ns).Get(ctx, lockName, metav1.GetOptions{})
	if err != nil {
		errorf("%v", err)
		return
	}
	w, err := view.coord.Leases(g.ns).Watch(ctx, metav1.ListOptions{
		FieldSelector: "metadata.name=" + lockName, ResourceVersion: cur.ResourceVersion,
	})
	if err != nil {
		errorf("watching the Lease: %v", err)
		return
	}
	history := []leaseSeen{seen(cur)}
	var mu sync.Mutex
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for ev := range w.ResultChan() {
			if le, ok := ev.Object.(*coordinationv1.Lease); ok {
				mu.Lock()
				history = append(history, seen(le))
				mu.Unlock()
			}
		}
	}()

	images := make([]string, 5)
	procs := make([]*proc, 5)
	for i := range procs {
		images[i] = fmt.Sprintf("registry.example.com/shop:%d.0.0", i+3)
		in := map[string]string{"APP": "shop", "NAMESPACE": g.ns, "KUBECONFIG": kubeconfig, "IMAGE": images[i],
			"WAIT_TIMEOUT": "60s", "LOCK_TIMEOUT": lockTimeout}
		if procs[i], err = startBluegreen(bin, t.TempDir(), in); err != nil {
			errorf("%v", err)
			return
		}
	}
	owners := map[string]int{}
	for i, p := range procs {
		owners[p.owner()] = i
	}
	codes := make([]int, len(procs))
	for i, p := range procs {
		code, ok := p.wait(4 * time.Minute) // a hang guard
		if !ok {
			errorf("run %d (%s) did not end\n%s", i, images[i], p)
		}
		codes[i] = code
	}
	w.Stop()
	<-watched
	mu.Lock()
	defer mu.Unlock()
	timeline := func() string {
		var b strings.Builder
		for _, s := range history {
			b.WriteString("  " + s.String())
			if i, ok := owners[s.holder]; ok {
				fmt.Fprintf(&b, " (run %d, %s)", i, images[i])
			}
			b.WriteString("\n")
		}
		return b.String()
	}

	// One holder at a time: the Lease passes from one run to another only
	// through free (released) or after the last holder's lease lapsed.
	var order []int // runs in the order they took the lock
	for k := 1; k < len(history); k++ {
		a, b := history[k-1], history[k]
		if b.holder == "" || b.holder == a.holder {
			continue
		}
		i, ok := owners[b.holder]
		if !ok {
			errorf("the lock was taken by %q, none of the five runs\n%s", b.holder, timeline())
			continue
		}
		order = append(order, i)
		if a.holder != "" && b.acquired.Before(a.renew.Add(a.duration)) {
			errorf("run %d took the lock from %q before that run's lease lapsed:\n%s", i, a.holder, timeline())
		}
		if b.transitions != a.transitions+1 {
			errorf("leaseTransitions went %d -> %d as run %d took the lock", a.transitions, b.transitions, i)
		}
	}
	if len(order) == 0 {
		errorf("no run ever held the lock\n%s", timeline())
		return
	}
	last := history[len(history)-1]
	if last.holder != "" {
		errorf("the lock is still held by %q after every run ended", last.holder)
	}

	won := map[int]bool{}
	for i, code := range codes {
		p := procs[i]
		switch {
		case code == 0:
			won[i] = true
		case lockTimeout != "0s":
			errorf("run %d (%s) waited for the lock yet failed with exit status %d\n%s", i, images[i], code, p)
		case code != 1 || !strings.Contains(p.stderr.String(), "is held by"):
			errorf("run %d (%s) failed with exit status %d, want 1 naming the lock's holder\n%s", i, images[i], code, p)
		default:
			named := false
			for o, j := range owners {
				named = named || (j != i && strings.Contains(p.stderr.String(), o))
			}
			if !named {
				errorf("run %d's refusal names none of the other runs as the holder\n%s", i, p)
			}
		}
	}
	for _, i := range order {
		if !won[i] {
			errorf("run %d held the lock but did not succeed\n%s", i, procs[i])
		}
	}
	want := images[order[len(order)-1]] // the release live now

	after, err := view.snap(ctx)
	if err != nil {
		errorf("%v", err)
		return
	}
	if live := after.colors[after.selector]; !after.svc || live.image != want || !live.fullyReady() {
		errorf("after the five runs: %s; want %s (the last to hold the lock) live and fully ready\n%s", after, want, timeline())
	}
	t.Logf("%s: runs took the lock in the order %v; the Lease's history:\n%s", name, order, timeline())
}
