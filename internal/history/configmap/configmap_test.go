package configmap_test

import (
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/bluegreen-dev/bluegreen-action/internal/history"
	"github.com/bluegreen-dev/bluegreen-action/internal/history/configmap"
	"github.com/bluegreen-dev/bluegreen-action/internal/kubetest"
)

const app = "shop"

func setup(t *testing.T) (corev1client.CoreV1Interface, string) {
	t.Helper()
	cfg := kubetest.Config(t)
	client, err := corev1client.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return client, kubetest.Namespace(t, cfg)
}

var start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// entry returns the i-th of a series of distinct entries.
func entry(i int) history.Entry {
	return history.Entry{
		Time:    start.Add(time.Duration(i) * time.Minute),
		Command: "deploy",
		Color:   []string{"blue", "green"}[i%2],
		Image:   fmt.Sprintf("registry.example/shop:v%d", i),
		Digest:  fmt.Sprintf("sha256:%064d", i),
		GitSHA:  fmt.Sprintf("%040d", i),
		RunURL:  fmt.Sprintf("https://ci.example/runs/%d", i),
		Result:  "success",
	}
}

func list(t *testing.T, s *configmap.Store) []history.Entry {
	t.Helper()
	got, err := s.List(t.Context())
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	return got
}

func TestAppendList(t *testing.T) {
	t.Parallel()
	client, ns := setup(t)
	s := configmap.New(client, ns, app)

	if got := list(t, s); len(got) != 0 {
		t.Errorf("List before any Append = %v, want empty", got)
	}
	for i := range 3 {
		if err := s.Append(t.Context(), entry(i)); err != nil {
			t.Fatalf("Append(%d): %v", i, err)
		}
	}
	want := []history.Entry{entry(2), entry(1), entry(0)}
	if diff := cmp.Diff(want, list(t, s)); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}

	cm, err := client.ConfigMaps(ns).Get(t.Context(), "shop-bluegreen-history", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantLabels := map[string]string{"app.kubernetes.io/name": app, "app.kubernetes.io/managed-by": "bluegreen"}
	if diff := cmp.Diff(wantLabels, cm.Labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
}

func TestLimit(t *testing.T) {
	t.Parallel()
	client, ns := setup(t)
	s := configmap.New(client, ns, app)

	const n = history.Limit + 5
	for i := range n {
		if err := s.Append(t.Context(), entry(i)); err != nil {
			t.Fatalf("Append(%d): %v", i, err)
		}
	}
	var want []history.Entry
	for i := n - 1; i >= n-history.Limit; i-- {
		want = append(want, entry(i))
	}
	if diff := cmp.Diff(want, list(t, s)); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
}

func TestConcurrentAppend(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		exists bool // whether the ConfigMap is there before the appends race
	}{
		{name: "racing to create", exists: false},
		{name: "racing to update", exists: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			client, ns := setup(t)
			s := configmap.New(client, ns, app)
			first := 0
			if tc.exists {
				if err := s.Append(t.Context(), entry(0)); err != nil {
					t.Fatal(err)
				}
				first = 1
			}

			const runs = 10
			var wg sync.WaitGroup
			for i := first; i < first+runs; i++ {
				wg.Go(func() {
					// Each run has a Store of its own, as separate CI jobs would.
					if err := configmap.New(client, ns, app).Append(t.Context(), entry(i)); err != nil {
						t.Errorf("Append(%d): %v", i, err)
					}
				})
			}
			wg.Wait()

			got := list(t, s)
			var want []history.Entry
			for i := range first + runs {
				want = append(want, entry(i))
			}
			// Which run won each race is up to the API server: compare as sets.
			sort.Slice(got, func(i, j int) bool { return got[i].Time.Before(got[j].Time) })
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("entries kept (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDryRun(t *testing.T) {
	t.Parallel()
	client, ns := setup(t)
	dry := configmap.New(client, ns, app, configmap.WithDryRun(true))

	// Missing ConfigMap: the dry run validates a Create but stores nothing.
	if err := dry.Append(t.Context(), entry(0)); err != nil {
		t.Fatalf("dry-run Append on a missing ConfigMap: %v", err)
	}
	_, err := client.ConfigMaps(ns).Get(t.Context(), configmap.Name(app), metav1.GetOptions{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("Get after dry-run Append = %v, want NotFound", err)
	}

	// Existing ConfigMap: the dry run validates an Update but changes nothing.
	if err := configmap.New(client, ns, app).Append(t.Context(), entry(1)); err != nil {
		t.Fatal(err)
	}
	if err := dry.Append(t.Context(), entry(2)); err != nil {
		t.Fatalf("dry-run Append on an existing ConfigMap: %v", err)
	}
	if diff := cmp.Diff([]history.Entry{entry(1)}, list(t, dry)); diff != "" {
		t.Errorf("List after dry-run Append (-want +got):\n%s", diff)
	}
}

func TestCorruptHistory(t *testing.T) {
	t.Parallel()
	client, ns := setup(t)
	_, err := client.ConfigMaps(ns).Create(t.Context(), &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: configmap.Name(app)},
		Data:       map[string]string{configmap.DataKey: "{not json"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := configmap.New(client, ns, app)
	if _, err := s.List(t.Context()); err == nil {
		t.Error("List of a corrupt history succeeded, want an error")
	}
	// Append must not paper over the damage by overwriting it.
	if err := s.Append(t.Context(), entry(0)); err == nil {
		t.Error("Append to a corrupt history succeeded, want an error")
	}
}
