// Package ecstag implements the deploy lock of an ECS application as a tag
// on its cluster, "bluegreen:lock:<app>", so that every CI job deploying to
// the cluster sees the same lock whichever runner it starts on. The value
// reads
//
//	token=<random> expires=<unix seconds> since=<unix seconds> lease=<seconds> owner=<owner>
//
// and fits ECS's rules for tag values (at most 256 characters of letters,
// digits, spaces and _.:/=+-@): the owner is cleaned up and shortened to
// fit, never the token or the times. expires and since are for people
// reading the tag; no reader compares them with its own clock.
//
//	l, err := ecstag.New(ecstag.Config{API: client, ClusterARN: arn, App: "shop"})
//	held, err := l.Acquire(ctx, runID, 5*time.Minute)
//	defer held.Release(context.WithoutCancel(ctx))
//
// # Taking the lock
//
// ECS has no conditional write: TagResource overwrites whatever value the
// key holds, and the last write wins. So the lock is a lease taken in four
// moves:
//
//  1. check: read the cluster's tags; if another claim is there and has
//     not expired, the lock is held (wait, or fail with a *lock.HeldError).
//     A claim expires for a reader once the reader has seen it unchanged
//     for its lease, measured on the reader's own monotonic clock from its
//     first read of that exact value (as client-go's leader election
//     does): every renewal rewrites the value, so a live holder keeps
//     resetting that count, and no reader ever compares its clock with a
//     time another machine wrote (a claim without the lease field, from an
//     earlier version, is given the reader's own lease);
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
// # Losing the lock
//
// The holder counts its claim valid until a lease after the moment it sent
// its last write that landed: every other reader saw that write then or
// later, so none takes the lock over before. The lock is lost, and Lost
// closes with a *lock.LostError naming whoever the tag names now, when a
// renewal's check finds another token (or none), when renewals have
// failed until that moment, or when Confirm finds another token. A run
// calls Confirm, one ListTagsForResource, right before each of its writes
// to a route or a color, and stops once the lock is lost: it writes
// nothing after that. A write that failed without an answer (a timeout, a
// reset connection) may still land: while Acquire is confirming, the
// read after the settle interval decides, and a claim Acquire gives up on
// is read back and removed if it is there; a renewal that lands late
// carries our token and is taken as ours.
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
// Tags have no conditional write, so the lock rests on write, settle,
// read back, and on the timing assumptions above:
//
//   - A write that takes effect more than S after its check began: a
//     request delivered very late, or a run paused (stopped VM, debugger)
//     between its check and its write. The deadline stops the SDK from
//     sending late, not the network from delivering late.
//   - Stale reads: the argument needs ListTagsForResource to return every
//     write that completed before it was called. ECS does not document tag
//     reads as strongly consistent; a longer settle interval widens the
//     margin.
//   - The gap between Confirm and the write it guards: a takeover that
//     lands in between (it needs the holder to have stalled for a whole
//     lease first) is seen by the next Confirm or renewal, after that one
//     write. Confirm narrows the window to one API call; it cannot close
//     it, since no ECS or ELB write can be made conditional on a tag.
//   - Clocks that run at different rates: a lease is measured on each
//     machine's monotonic clock, so a reader whose clock runs much faster
//     than the holder's takes over early. Offsets between clocks do not
//     matter.
//   - Anyone writing or removing the tag by hand or by other tools, or a
//     writer that skips the check.
//
// The lock keeps honest runs from overlapping; it is no security boundary.
// Anyone who may tag the cluster may take or clear it.
package ecstag
