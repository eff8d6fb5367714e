package taskdef

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/bluegreen-dev/bluegreen-action/internal/command"
	"github.com/bluegreen-dev/bluegreen-action/internal/ecstags"
	"github.com/bluegreen-dev/bluegreen-action/internal/history"
)

// API is the part of the ECS client the history uses.
type API interface {
	ListTaskDefinitions(context.Context, *awsecs.ListTaskDefinitionsInput, ...func(*awsecs.Options)) (*awsecs.ListTaskDefinitionsOutput, error)
	DescribeTaskDefinition(context.Context, *awsecs.DescribeTaskDefinitionInput, ...func(*awsecs.Options)) (*awsecs.DescribeTaskDefinitionOutput, error)
	TagResource(context.Context, *awsecs.TagResourceInput, ...func(*awsecs.Options)) (*awsecs.TagResourceOutput, error)
}

var (
	_ API           = (*awsecs.Client)(nil)
	_ history.Store = (*Store)(nil)
)

// Tags Append writes on a revision. The release tags come from package
// ecstags.
const (
	ResultTag         = "bluegreen:result"
	RolledBackAtTag   = "bluegreen:rolled-back-at"
	RollbackResultTag = "bluegreen:rollback-result"
	RollbackRunURLTag = "bluegreen:rollback-run-url"
	// A rollback also names the color and image it went back to, so that
	// a rollback to a revision bluegreen did not register (one made by
	// hand or by another tool, with none of the release tags) is recorded
	// too.
	RollbackColorTag = "bluegreen:rollback-color"
	RollbackImageTag = "bluegreen:rollback-image"

	// A prepared release is a revision with bluegreen:prepared-at (and
	// bluegreen:result "prepared"); its switch and its abort have tags of
	// their own, as a rollback does.
	PreparedAtTag   = "bluegreen:prepared-at"
	SwitchedAtTag   = "bluegreen:switched-at"
	SwitchResultTag = "bluegreen:switch-result"
	SwitchRunURLTag = "bluegreen:switch-run-url"
	AbortedAtTag    = "bluegreen:aborted-at"
	AbortResultTag  = "bluegreen:abort-result"
	AbortRunURLTag  = "bluegreen:abort-run-url"

	// A split is a revision with bluegreen:split-at (and bluegreen:result
	// "split"): it serves part of the traffic until a switch, a deploy of
	// it or a rollback.
	SplitAtTag = "bluegreen:split-at"
)

// ErrNoRevision is returned by Append when no recent revision runs the
// entry's release: the run registered none (it failed before), or the
// revision is older than the newest history.Limit.
var ErrNoRevision = errors.New("no task definition revision runs that release")

// describers bounds the DescribeTaskDefinition calls List makes at once:
// enough to read 50 revisions in a few round trips, few enough to stay
// clear of ECS's request rate limits.
const describers = 4

// Option tunes a Store.
type Option func(*Store)

// WithDryRun makes Append find the revision but tag nothing when on.
func WithDryRun(on bool) Option { return func(s *Store) { s.dryRun = on } }

// Store reads and extends one application's history in the revisions of
// its task definition family.
type Store struct {
	api    API
	family string
	dryRun bool
}

var familyRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,255}$`)

// New returns the Store for the task definition family the application's
// revisions are registered in.
func New(api API, family string, opts ...Option) (*Store, error) {
	switch {
	case api == nil:
		return nil, errors.New("task definition history: no ECS client")
	case !familyRE.MatchString(family):
		return nil, fmt.Errorf("task definition history: family %q is not a task definition family name (1-255 letters, digits, _ and -)", family)
	}
	s := &Store{api: api, family: family}
	for _, opt := range opts {
		opt(s)
	}
	return s, nil
}

// Family returns the family of a task definition given by ARN
// (arn:aws:ecs:<region>:<account>:task-definition/<family>:<revision>) or
// as family:revision.
func Family(ref string) string {
	if i := strings.LastIndex(ref, ":task-definition/"); i >= 0 {
		ref = ref[i+len(":task-definition/"):]
	}
	family, _, _ := strings.Cut(ref, ":")
	return family
}

// revision is one task definition revision as the history reads it.
type revision struct {
	arn        string
	registered time.Time
	tags       map[string]string
	// images are those of its containers.
	images []string
}

func found(r revision) bool { return r.arn != "" }

// isForeign reports whether a revision was registered by something other
// than bluegreen: it has none of the release tags.
func isForeign(tags map[string]string) bool {
	return tags[ecstags.Image] == "" && tags[ecstags.Color] == ""
}

// List returns the entries recorded in the newest history.Limit revisions,
// newest first. A family with no revisions is an empty history.
func (s *Store) List(ctx context.Context) ([]history.Entry, error) {
	arns, err := s.arns(ctx)
	if err != nil {
		return nil, err
	}
	revs, err := s.describeAll(ctx, arns)
	if err != nil {
		return nil, err
	}
	var out []history.Entry
	for _, r := range revs {
		out = append(out, entries(r)...)
	}
	slices.SortStableFunc(out, func(a, b history.Entry) int { return b.Time.Compare(a.Time) })
	if len(out) > history.Limit {
		out = out[:history.Limit]
	}
	return out, nil
}

// Append records e on the revision that runs its release.
func (s *Store) Append(ctx context.Context, e history.Entry) error {
	result := ecstags.Value(e.Result)
	if result == "" {
		result = "unknown"
	}
	at := e.Time.UTC().Format(time.RFC3339)
	var tags []types.Tag
	switch e.Command {
	case command.Deploy:
		tags = tagList(ResultTag, result)
	case command.Prepare:
		tags = tagList(ResultTag, result, PreparedAtTag, at)
	case command.Split:
		tags = tagList(ResultTag, result, SplitAtTag, at)
	case command.Rollback:
		tags = tagList(RolledBackAtTag, at, RollbackResultTag, result,
			RollbackColorTag, ecstags.Value(e.Color), RollbackImageTag, ecstags.Value(e.Image))
		if e.RunURL != "" {
			tags = append(tags, tagList(RollbackRunURLTag, ecstags.Value(e.RunURL))...)
		}
	case command.Switch:
		tags = tagList(SwitchedAtTag, at, SwitchResultTag, result)
		if e.RunURL != "" {
			tags = append(tags, tagList(SwitchRunURLTag, ecstags.Value(e.RunURL))...)
		}
	case command.Abort:
		tags = tagList(AbortedAtTag, at, AbortResultTag, result)
		if e.RunURL != "" {
			tags = append(tags, tagList(AbortRunURLTag, ecstags.Value(e.RunURL))...)
		}
	default:
		return fmt.Errorf("recording a %q run in task definition family %q: valid commands are %q", e.Command, s.family, command.Recorded())
	}
	if e.Color == "" || e.Image == "" {
		return fmt.Errorf("recording a %q run in task definition family %q: the entry names no color or no image", e.Command, s.family)
	}
	rev, err := s.find(ctx, e)
	if err != nil {
		return fmt.Errorf("recording the %s of %q to %s in task definition family %q: %w", e.Command, e.Image, e.Color, s.family, err)
	}
	if s.dryRun {
		return nil
	}
	if _, err := s.api.TagResource(ctx, &awsecs.TagResourceInput{ResourceArn: aws.String(rev.arn), Tags: tags}); err != nil {
		return fmt.Errorf("tagging task definition %q: %w", rev.arn, err)
	}
	return nil
}

// find returns the newest revision that runs e's release, reading the
// revisions newest first and stopping at the first match. An entry that
// names its revision (a prepared release, its switch and its abort) is
// recorded on that one, when it belongs to the family.
func (s *Store) find(ctx context.Context, e history.Entry) (revision, error) {
	if e.Revision != "" && Family(e.Revision) == s.family {
		return s.describe(ctx, e.Revision)
	}
	arns, err := s.arns(ctx)
	if err != nil {
		return revision{}, err
	}
	var untagged revision
	for _, arn := range arns {
		r, err := s.describe(ctx, arn)
		if err != nil {
			return revision{}, err
		}
		if matches(r.tags, e) {
			return r, nil
		}
		if !found(untagged) && e.Command == command.Rollback && isForeign(r.tags) && slices.Contains(r.images, e.Image) {
			untagged = r
		}
	}
	// A rollback to a release bluegreen did not deploy: the newest
	// revision without release tags that runs its image.
	if found(untagged) {
		return untagged, nil
	}
	return revision{}, fmt.Errorf("%w among the newest %d", ErrNoRevision, len(arns))
}

// matches reports whether a revision's tags record e's release. Digest
// and, for a deploy, the run URL must agree when both sides have one: a
// redeploy of an image must not be mistaken for an earlier deploy of it.
func matches(tags map[string]string, e history.Entry) bool {
	agree := func(key, v string) bool { return v == "" || tags[key] == "" || tags[key] == ecstags.Value(v) }
	registers := e.Command.Deploys()
	return tags[ecstags.Color] == e.Color && tags[ecstags.Image] == ecstags.Value(e.Image) &&
		agree(ecstags.Digest, e.Digest) && (!registers || agree(ecstags.RunURL, e.RunURL))
}

// arns lists the newest history.Limit revisions of the family, newest
// first. ECS filters by the exact family; filtering again here keeps a
// family named like the start of another one to itself whatever answers.
func (s *Store) arns(ctx context.Context) ([]string, error) {
	in := &awsecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String(s.family), Sort: types.SortOrderDesc, MaxResults: aws.Int32(100)}
	var out []string
	pages := awsecs.NewListTaskDefinitionsPaginator(s.api, in)
	for pages.HasMorePages() && len(out) < history.Limit {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing the revisions of task definition family %q: %w", s.family, err)
		}
		for _, arn := range page.TaskDefinitionArns {
			if Family(arn) == s.family && len(out) < history.Limit {
				out = append(out, arn)
			}
		}
	}
	return out, nil
}

func (s *Store) describe(ctx context.Context, arn string) (revision, error) {
	out, err := s.api.DescribeTaskDefinition(ctx, &awsecs.DescribeTaskDefinitionInput{
		TaskDefinition: aws.String(arn), Include: []types.TaskDefinitionField{types.TaskDefinitionFieldTags},
	})
	if err != nil {
		return revision{}, fmt.Errorf("describing task definition %q: %w", arn, err)
	}
	r := revision{arn: arn, tags: map[string]string{}}
	if out.TaskDefinition != nil {
		r.registered = aws.ToTime(out.TaskDefinition.RegisteredAt)
		for _, c := range out.TaskDefinition.ContainerDefinitions {
			r.images = append(r.images, aws.ToString(c.Image))
		}
	}
	for _, t := range out.Tags {
		r.tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return r, nil
}

// describeAll describes the revisions a few at a time, in arns' order.
func (s *Store) describeAll(ctx context.Context, arns []string) ([]revision, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	revs := make([]revision, len(arns))
	var (
		mu    sync.Mutex
		first error
	)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(describers, len(arns)) {
		wg.Go(func() {
			for i := range next {
				r, err := s.describe(ctx, arns[i])
				if err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					cancel()
					continue
				}
				revs[i] = r
			}
		})
	}
feed:
	for i := range arns {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if first != nil {
		return nil, first
	}
	return revs, ctx.Err()
}

// entries turns a revision's tags into its history entries: none for a
// revision bluegreen did not register, a deploy (or a prepare), and a
// rollback, a switch and an abort of it if there were.
func entries(r revision) []history.Entry {
	t := r.tags
	if isForeign(t) {
		return foreignEntries(r)
	}
	deploy := history.Entry{
		Time:     r.registered.UTC(),
		Command:  command.Deploy,
		Color:    t[ecstags.Color],
		Image:    t[ecstags.Image],
		Digest:   t[ecstags.Digest],
		GitSHA:   t[ecstags.GitSHA],
		RunURL:   t[ecstags.RunURL],
		Result:   orUnknown(t[ResultTag]),
		Revision: r.arn,
	}
	if at, err := time.Parse(time.RFC3339, t[ecstags.DeployedAt]); err == nil {
		deploy.Time = at.UTC()
	}
	if at, err := time.Parse(time.RFC3339, t[PreparedAtTag]); err == nil {
		deploy.Command, deploy.Time = command.Prepare, at.UTC()
	}
	if at, err := time.Parse(time.RFC3339, t[SplitAtTag]); err == nil {
		deploy.Command, deploy.Time = command.Split, at.UTC()
	}
	out := []history.Entry{deploy}
	for _, later := range []struct {
		command            command.Name
		at, result, runURL string
	}{
		{command.Rollback, RolledBackAtTag, RollbackResultTag, RollbackRunURLTag},
		{command.Switch, SwitchedAtTag, SwitchResultTag, SwitchRunURLTag},
		{command.Abort, AbortedAtTag, AbortResultTag, AbortRunURLTag},
	} {
		at, err := time.Parse(time.RFC3339, t[later.at])
		if err != nil {
			continue
		}
		e := deploy
		e.Command, e.Time, e.RunURL, e.Result = later.command, at.UTC(), t[later.runURL], orUnknown(t[later.result])
		out = append(out, e)
	}
	// Tags hold whole seconds: a switch in the same second as its prepare
	// must still sort as the newer. List sorts stably, so the revision's
	// entries go in newest first.
	slices.Reverse(out)
	return out
}

// foreignEntries returns the rollback to a revision bluegreen did not
// register, if there was one: such a revision has no deploy of its own to
// report.
func foreignEntries(r revision) []history.Entry {
	t := r.tags
	at, err := time.Parse(time.RFC3339, t[RolledBackAtTag])
	if err != nil || t[RollbackColorTag] == "" {
		return nil
	}
	return []history.Entry{{
		Time:     at.UTC(),
		Command:  command.Rollback,
		Color:    t[RollbackColorTag],
		Image:    t[RollbackImageTag],
		RunURL:   t[RollbackRunURLTag],
		Result:   orUnknown(t[RollbackResultTag]),
		Revision: r.arn,
	}}
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func tagList(kv ...string) []types.Tag {
	var out []types.Tag
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, types.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	return out
}
