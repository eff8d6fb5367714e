// Package ecstag implements the deploy lock of an ECS application as a tag
// on its cluster, "bluegreen:lock:<app>", so that every CI job deploying to
// the cluster sees the same lock whichever runner it starts on. The value
// reads
//
//	token=<random> expires=<unix seconds> since=<unix seconds> owner=<owner>
//
// and fits ECS's rules for tag values (at most 256 characters of letters,
// digits, spaces and _.:/=+-@): the owner is cleaned up and shortened to
// fit, never the token or the times.
//
//	l, err := ecstag.New(ecstag.Config{API: client, ClusterARN: arn, App: "shop"})
//	release, err := l.Acquire(ctx, runID, 5*time.Minute)
//	defer release(context.WithoutCancel(ctx))
//
// # Taking the lock
//
// ECS has no conditional write: TagResource overwrites whatever value the
// key holds, and the last write wins. So the lock is a lease taken in four
// moves:
//
//  1. check: read the cluster's tags; if another claim is there and has
//     not expired, the lock is held (wait, or fail with a *lock.HeldError);
//  2. write our claim, with a token no other claim has (a claim found in
//     the tag that this same Acquire wrote in an earlier attempt is no
//     obstacle; one it gives up on is removed);
//  3. settle: wait the settle interval S (default 2 s);
//  4. confirm: read the tag again. We hold the lock only if it still
//     carries our token; otherwise a racing run overwrote us, and we back
//     off and treat the lock as held by whoever the tag names now.
//
// The holder then rewrites its claim with a later expiry every renew
// interval (default 20 s, lease 60 s), each time after checking that the
// tag still carries its token, and release removes the tag under the same
// check.
//
// # Why at most one run holds the lock
//
// Two assumptions. First, every write follows a check of the tag: a claim
// is written only when the check saw no live claim, a renewal or a removal
// only when the check saw the writer's own token. Second, the gap from the
// start of a check to the moment its write takes effect, g, is shorter
// than S. The package enforces the second itself as far as a client can:
// each write is sent with a deadline of S/2 after its check began, so the
// SDK starts no attempt (first or retry) later than that, and a write that
// misses the deadline is not trusted: the attempt starts again from step 1.
//
// Suppose runs A and B hold the lock at the same time, and A's claim took
// effect first, at tA, B's at tB > tA. A's confirming read came at tA + S
// or later and still saw A's token; tags are last-writer-wins and B's
// token differs, so B's write took effect after that read: tB > tA + S,
// and B's check began after tB - g > tA + S - g > tA. From tA until A
// releases the lock, the tag carries A's claim, kept live by A's renewals
// (take A and B as the earliest such pair, so that no third run's write
// came in between), and A had not released it when B's check ran, since
// B's check came before the two overlapped. So B's check saw a live claim
// that was not its own, and B wrote nothing: a contradiction.
//
// Renewals and removals cannot undo a confirmed claim either: one that
// would land after the claim's confirming read began its check after the
// claim took effect, saw a token not its own, and wrote nothing; one that
// lands between the claim's write and its confirming read makes the
// confirmation fail.
//
// # What it does not protect against
//
//   - A write that takes effect more than S after its check began: a
//     request delivered very late, or a run paused (stopped VM, debugger)
//     between its check and its write. The deadline stops the SDK from
//     sending late, not the network from delivering late.
//   - Stale reads: the argument needs ListTagsForResource to return every
//     write that completed before it was called. ECS does not document tag
//     reads as strongly consistent; a longer settle interval widens the
//     margin.
//   - Clock skew between runners beyond the lease minus the renew interval
//     (40 s by default): expiry is written in the holder's clock and read
//     in the reader's, so a reader whose clock runs far ahead takes over a
//     live lock. The holder's next renewal then sees the other token, stops
//     renewing and reports the loss; its run's steps go on.
//   - A holder that stops renewing for longer than the lease (a network
//     outage, throttling) loses the lock the same way.
//   - Anyone writing or removing the tag by hand or by other tools, or a
//     writer that skips the check.
//
// The lock keeps honest runs from overlapping; it is no security boundary.
// Anyone who may tag the cluster may take or clear it.
package ecstag
