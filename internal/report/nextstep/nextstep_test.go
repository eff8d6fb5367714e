package nextstep

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/bluegreen-dev/bluegreen-action/internal/lock"
)

// refusedGet returns the error of a real GET to a port nothing listens on.
func refusedGet(t *testing.T, path string) (error, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr + path)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("GET %s answered; want a refused connection", addr)
	}
	return err, addr
}

func TestFor(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)
	apiRefused, apiAddr := refusedGet(t, "/api/v1/namespaces/shop")
	appRefused, _ := refusedGet(t, "/healthz")
	forbidden := apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "deployments"}, "shop-blue",
		errors.New(`User "ci" cannot get resource "deployments" in API group "apps" in the namespace "shop"`))
	held := &lock.HeldError{Name: "shop/shop-bluegreen-lock", Holder: "https://github.com/acme/shop/actions/runs/42",
		Since: now.Add(-5 * time.Minute), Expires: now.Add(10 * time.Second)}

	cases := []struct {
		name string
		err  error
		want []string // all must appear; none means no advice
	}{
		{name: "nil", err: nil},
		{name: "unknown cause", err: errors.New("deploy green: image pull back-off")},
		{
			name: "lock held",
			err:  fmt.Errorf("lock: %w", held),
			want: []string{"https://github.com/acme/shop/actions/runs/42", "since 2026-03-14T09:25:00Z (5m0s ago)", "`lock-timeout`", "lapses at 2026-03-14T09:30:10Z"},
		},
		{
			name: "lock lost to another run",
			err:  fmt.Errorf("bake: %w", &lock.LostError{Name: "shop/shop-bluegreen-lock", Holder: "https://github.com/acme/shop/actions/runs/43", Reason: "renewing found another holder"}),
			want: []string{"https://github.com/acme/shop/actions/runs/43", "wrote nothing after that"},
		},
		{
			name: "lock lapsed",
			err:  &lock.LostError{Name: "shop/shop-bluegreen-lock", Reason: "not renewed for the whole 30s lease"},
			want: []string{"not renewed for the whole 30s lease", "stopped writing"},
		},
		{
			name: "403 wrapped",
			err:  fmt.Errorf("deploy green: reading deployment: %w", forbidden),
			want: []string{"403 Forbidden", "docs/rbac-kubernetes.yaml", RBACDocument},
		},
		{
			// Set-up quotes some API errors instead of wrapping them.
			name: "403 quoted",
			err:  fmt.Errorf("input %q: %v", "kubeconfig", forbidden),
			want: []string{"docs/rbac-kubernetes.yaml"},
		},
		{
			name: "API server refused",
			err:  fmt.Errorf("read live state: %w", apiRefused),
			want: []string{apiAddr, "the API server the kubeconfig names", "is the container itself", "`kubeconfig` input"},
		},
		{
			name: "API server refused, quoted",
			err:  fmt.Errorf("input %q: cannot reach the cluster: %v", "kubeconfig", apiRefused),
			want: []string{apiAddr, "is the container itself"},
		},
		{
			// A verify URL that refuses has nothing to do with the kubeconfig.
			name: "other server refused",
			err:  fmt.Errorf("verify: %w", appRefused),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := For(tc.err, now)
			if len(tc.want) == 0 && got != "" {
				t.Errorf("For(%v) = %q, want no advice", tc.err, got)
			}
			if len(tc.want) > 0 && got == "" {
				t.Fatalf("For(%v) gave no advice", tc.err)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("For(%v) = %q, want it to contain %q", tc.err, got, w)
				}
			}
		})
	}
}

func TestRefusedRemoteHost(t *testing.T) {
	t.Parallel()
	got := refused("10.0.0.7:6443")
	if strings.Contains(got, "container itself") {
		t.Errorf("refused(remote) = %q; the loopback advice is only for a loopback address", got)
	}
	if !strings.Contains(got, "10.0.0.7:6443") {
		t.Errorf("refused(remote) = %q, want the address", got)
	}
}
