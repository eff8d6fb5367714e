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
// Expiry is judged as client-go's leader election judges it: a reader
// keeps the Lease's record (holder, acquire and renew times, duration,
// transitions) with the moment it first saw that record, on its own
// monotonic clock, and the Lease expires for it once the record went
// unchanged for leaseDurationSeconds from that moment. The renew time in
// the Lease was written by another machine and is never compared with the
// reader's clock, so clocks that disagree by minutes neither make a live
// Lease look lapsed nor keep a dead one taken. The cost: a run that finds
// a Lease left by a run that died waits one lease duration from its first
// look before taking it.
//
// A held Lease is lost, and the Lock's Lost channel closes with a
// *lock.LostError naming the holder now, when a renewal or Confirm finds
// another holder (or the Lease deleted), or when renewals have failed for
// a whole lease duration since the last one that landed: from then on
// another run may take it over. A write of the Lease whose answer was lost
// (a timeout, a reset connection) is followed by a read, which tells
// whether it was applied: Acquire then holds what it took instead of
// leaving it taken by nobody until it lapses.
//
//	l, err := lease.New(lease.Config{Client: coordination, Namespace: "shop", Name: "shop-bluegreen-lock"})
//	held, err := l.Acquire(ctx, runID, 5*time.Minute)
//	defer held.Release(context.WithoutCancel(ctx))
package lease
