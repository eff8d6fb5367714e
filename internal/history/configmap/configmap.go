package configmap

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/util/retry"

	"github.com/bluegreen-dev/bluegreen-action/internal/history"
)

var _ history.Store = (*Store)(nil)

// DataKey is the ConfigMap data key holding the entries.
const DataKey = "history.json"

// Name returns the name of the ConfigMap holding app's history.
func Name(app string) string { return app + "-bluegreen-history" }

// backoff paces retries after a Conflict. Every Conflict means another run
// appended first, so with n runs appending at once the last one needs n-1
// retries: client-go's retry.DefaultRetry (5 steps) is too few for ten.
// Full jitter spreads the runs apart so that they stop colliding.
var backoff = wait.Backoff{Duration: 10 * time.Millisecond, Factor: 1.5, Jitter: 1, Steps: 20, Cap: 500 * time.Millisecond}

// Option tunes a Store.
type Option func(*Store)

// WithDryRun makes Append send its writes as server-side dry runs when on:
// the API server validates them but stores nothing.
func WithDryRun(on bool) Option {
	return func(s *Store) {
		s.dryRun = nil
		if on {
			s.dryRun = []string{metav1.DryRunAll}
		}
	}
}

// Store keeps one application's history in a ConfigMap.
type Store struct {
	maps   corev1client.ConfigMapInterface
	app    string
	name   string
	dryRun []string
}

// New returns the Store for app's history in namespace.
func New(client corev1client.ConfigMapsGetter, namespace, app string, opts ...Option) *Store {
	s := &Store{maps: client.ConfigMaps(namespace), app: app, name: Name(app)}
	for _, opt := range opts {
		opt(s)
	}
	return s
}

// List returns the entries, newest first. A missing ConfigMap is an empty
// history: the application has not been deployed by this tool yet.
func (s *Store) List(ctx context.Context) ([]history.Entry, error) {
	cm, err := s.maps.Get(ctx, s.name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading ConfigMap %q: %w", s.name, err)
	}
	return s.decode(cm)
}

// Append adds e as the newest entry and drops the oldest beyond
// history.Limit. It creates the ConfigMap when it is missing.
func (s *Store) Append(ctx context.Context, e history.Entry) error {
	// AlreadyExists is a Conflict in disguise: another run created the
	// ConfigMap between our Get and Create.
	retriable := func(err error) bool { return apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) }
	err := retry.OnError(backoff, retriable, func() error {
		cm, err := s.maps.Get(ctx, s.name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return s.create(ctx, e)
		}
		if err != nil {
			return fmt.Errorf("reading ConfigMap %q: %w", s.name, err)
		}
		entries, err := s.decode(cm)
		if err != nil {
			return err
		}
		data, err := encode(e, entries)
		if err != nil {
			return err
		}
		next := cm.DeepCopy()
		if next.Data == nil {
			next.Data = map[string]string{}
		}
		next.Data[DataKey] = data
		// next carries the resourceVersion read above: a run that wrote
		// since makes this a Conflict, and the loop reads again.
		if _, err := s.maps.Update(ctx, next, metav1.UpdateOptions{DryRun: s.dryRun}); err != nil {
			return fmt.Errorf("updating ConfigMap %q: %w", s.name, err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("appending to the history of %q: %w", s.app, err)
	}
	return nil
}

func (s *Store) create(ctx context.Context, e history.Entry) error {
	data, err := encode(e, nil)
	if err != nil {
		return err
	}
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{
			Name: s.name,
			Labels: map[string]string{
				"app.kubernetes.io/name":       s.app,
				"app.kubernetes.io/managed-by": "bluegreen",
			},
		},
		Data: map[string]string{DataKey: data},
	}
	if _, err := s.maps.Create(ctx, cm, metav1.CreateOptions{DryRun: s.dryRun}); err != nil {
		return fmt.Errorf("creating ConfigMap %q: %w", s.name, err)
	}
	return nil
}

func (s *Store) decode(cm *corev1.ConfigMap) ([]history.Entry, error) {
	raw := cm.Data[DataKey]
	if raw == "" {
		return nil, nil
	}
	var entries []history.Entry
	if err := json.Unmarshal([]byte(raw), &entries); err != nil {
		return nil, fmt.Errorf("decoding %q in ConfigMap %q (delete the key to start a new history): %w", DataKey, s.name, err)
	}
	return entries, nil
}

// encode puts e in front of entries, keeps at most history.Limit and
// returns the JSON to store.
func encode(e history.Entry, entries []history.Entry) (string, error) {
	all := make([]history.Entry, 0, len(entries)+1)
	all = append(all, e)
	all = append(all, entries...)
	if len(all) > history.Limit {
		all = all[:history.Limit]
	}
	b, err := json.Marshal(all)
	if err != nil {
		return "", fmt.Errorf("encoding history: %w", err)
	}
	return string(b), nil
}
