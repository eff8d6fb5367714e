// Package taskdef reads an ECS application's deploy history from the
// revisions of its task definition family, so that ECS itself is the
// record and any CI job that may describe task definitions can read it.
//
// Every deploy registers a revision carrying the release in its tags
// (bluegreen:image, bluegreen:digest, bluegreen:git-sha, bluegreen:run-url,
// bluegreen:deployed-at, bluegreen:color; see package platform/ecs). The
// history adds what only the end of a run knows, as more tags on that
// revision: bluegreen:result for the deploy's outcome, and for a rollback
// to the revision bluegreen:rolled-back-at, bluegreen:rollback-result and
// bluegreen:rollback-run-url. A rollback has tags of its own so that it
// does not overwrite the result of the deploy that registered the
// revision.
//
// A release made ready behind the preview by command prepare is recorded
// the same way, on the revision the prepared color runs:
// bluegreen:prepared-at and bluegreen:result "prepared". Its switch adds
// bluegreen:switched-at, bluegreen:switch-result and
// bluegreen:switch-run-url; its abort bluegreen:aborted-at,
// bluegreen:abort-result and bluegreen:abort-run-url. List yields a
// "prepare" entry at the prepared-at time instead of the "deploy" one,
// then a "switch" and an "abort" entry where there were such runs, each
// naming its revision so that history.Prepared can find what waits.
//
// List reads the newest history.Limit revisions of the family (ACTIVE ones:
// ECS lists no others by default), one DescribeTaskDefinition each, and
// turns each revision with bluegreen's tags into a "deploy" entry at its
// deployed-at time, plus a "rollback" entry at its rolled-back-at time
// when it has one, newest first. Revisions registered by other tools have
// no such tags: they use up their place among the revisions read but yield
// no entry, so List costs a bounded number of calls however the family is
// used; only a rollback to one yields a "rollback" entry, from the tags
// bluegreen:rollback-color and bluegreen:rollback-image every rollback
// writes. A revision records only its latest rollback.
//
// Append finds the newest revision of the entry's color that runs the
// entry's image (and digest, and for a deploy the same CI run, when both
// sides know them) and tags it; an entry that names its revision is
// recorded on that one. A rollback that names none and matches no release
// of bluegreen's goes on the newest untagged revision running its image.
// A deploy that failed before registering a revision has nothing to tag:
// Append returns ErrNoRevision.
package taskdef
