// Package lease implements the deploy lock with a coordination.k8s.io/v1
// Lease in the application's namespace, so that every CI job deploying to
// the cluster sees the same lock whichever runner it starts on.
//
// The Lease is taken by creating it, or by updating an expired or released
// one with the resourceVersion just read: the API server's optimistic
// concurrency picks exactly one winner among runs that race for it. The
// holder renews the Lease while it deploys; a run that dies stops renewing
// and the next run takes the Lease over once it expires.
//
//	l, err := lease.New(lease.Config{Client: coordination, Namespace: "shop", Name: "shop-bluegreen-lock"})
//	release, err := l.Acquire(ctx, runID, 5*time.Minute)
//	defer release(context.WithoutCancel(ctx))
package lease
