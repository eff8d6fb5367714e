package ecstask

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsapi"
	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/migrate"
)

// API is the part of the ECS client a Migrator uses.
type API interface {
	DescribeServices(context.Context, *awsecs.DescribeServicesInput, ...func(*awsecs.Options)) (*awsecs.DescribeServicesOutput, error)
	DescribeTaskDefinition(context.Context, *awsecs.DescribeTaskDefinitionInput, ...func(*awsecs.Options)) (*awsecs.DescribeTaskDefinitionOutput, error)
	RunTask(context.Context, *awsecs.RunTaskInput, ...func(*awsecs.Options)) (*awsecs.RunTaskOutput, error)
	DescribeTasks(context.Context, *awsecs.DescribeTasksInput, ...func(*awsecs.Options)) (*awsecs.DescribeTasksOutput, error)
	StopTask(context.Context, *awsecs.StopTaskInput, ...func(*awsecs.Options)) (*awsecs.StopTaskOutput, error)
}

var (
	_ API              = (*awsecs.Client)(nil)
	_ migrate.Migrator = (*Migrator)(nil)
)

// Config holds what a Migrator needs.
type Config struct {
	API     API
	Cluster string
	// App names the application: its colors are the services
	// "<App>-blue" and "<App>-green".
	App string
	// Container names the container that runs the command; empty means
	// the first essential one, as for the image.
	Container string
	// LogsURL, when set, links a started task to its output, replacing
	// the CloudWatch console link built from an awslogs configuration;
	// "" means no link.
	LogsURL func(task types.Task) string
}

// Defaults of the options.
const (
	// DefaultProgressEvery is how often an unchanged task status is
	// repeated in the log, so that a long migration shows it is alive.
	DefaultProgressEvery = 30 * time.Second
	// DefaultStopTimeout bounds the StopTask call made after the deploy
	// was cancelled.
	DefaultStopTimeout = 30 * time.Second
)

// Migrator implements migrate.Migrator with ECS RunTask.
type Migrator struct {
	cfg      Config
	poll     time.Duration
	progress time.Duration
	stop     time.Duration
}

// Option tunes a Migrator.
type Option func(*Migrator)

// WithPoll sets the base interval between two reads of the task
// (jittered ±20%); default awsapi.DefaultPoll.
func WithPoll(d time.Duration) Option { return func(m *Migrator) { m.poll = d } }

// WithProgressEvery sets how often an unchanged status is logged again;
// a change is logged at once. Default DefaultProgressEvery.
func WithProgressEvery(d time.Duration) Option { return func(m *Migrator) { m.progress = d } }

// WithStopTimeout bounds the StopTask call made when the deploy is
// cancelled; default DefaultStopTimeout.
func WithStopTimeout(d time.Duration) Option { return func(m *Migrator) { m.stop = d } }

// New returns the Migrator for cfg.
func New(cfg Config, opts ...Option) (*Migrator, error) {
	switch {
	case cfg.API == nil:
		return nil, errors.New("ecs migrations: no ECS client")
	case cfg.Cluster == "":
		return nil, errors.New("ecs migrations: no cluster")
	case cfg.App == "":
		return nil, errors.New("ecs migrations: no app name")
	}
	m := &Migrator{cfg: cfg, poll: awsapi.DefaultPoll, progress: DefaultProgressEvery, stop: DefaultStopTimeout}
	for _, o := range opts {
		o(m)
	}
	if m.poll < 0 || m.progress < 0 || m.stop <= 0 {
		return nil, fmt.Errorf("ecs migrations: poll %s, progress %s and stop timeout %s must not be negative, the stop timeout not zero", m.poll, m.progress, m.stop)
	}
	return m, nil
}

// Migrate implements migrate.Migrator: it runs command in a task of color
// c's task definition, with its service's network configuration, and
// waits until the task stops.
func (m *Migrator) Migrate(ctx context.Context, c color.Color, phase migrate.Phase, command []string, log func(string)) error {
	if len(command) == 0 {
		return errors.New("running the migration: no command")
	}
	name := m.cfg.App + "-" + string(c)
	svc, err := m.service(ctx, name)
	if err != nil {
		return err
	}
	ref := aws.ToString(svc.TaskDefinition)
	out, err := m.cfg.API.DescribeTaskDefinition(ctx, &awsecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(ref)})
	if err != nil {
		return fmt.Errorf("describing task definition %q of service %q: %w", ref, name, err)
	}
	td := out.TaskDefinition
	container, err := pickContainer(td.ContainerDefinitions, m.cfg.Container)
	if err != nil {
		return fmt.Errorf("task definition %q of service %q: %w", revision(ref), name, err)
	}
	token, err := clientToken()
	if err != nil {
		return err
	}
	in := runInput(m.cfg.Cluster, svc, td, aws.ToString(container.Name), phase, command, token)
	task, err := m.run(ctx, in, name)
	if err != nil {
		return err
	}
	link := m.logsURL(task, container)
	log(fmt.Sprintf("migration task %s started from %s in cluster %s: %q", taskID(task), revision(ref), m.cfg.Cluster, strings.Join(command, " ")))
	if link != "" {
		log("logs of the migration task: " + link)
	}
	return m.wait(ctx, task, aws.ToString(container.Name), link, log)
}

// service reads the color's service; it must exist and be ACTIVE.
func (m *Migrator) service(ctx context.Context, name string) (*types.Service, error) {
	out, err := m.cfg.API.DescribeServices(ctx, &awsecs.DescribeServicesInput{Cluster: aws.String(m.cfg.Cluster), Services: []string{name}})
	if err != nil {
		return nil, fmt.Errorf("describing service %q in cluster %q: %w", name, m.cfg.Cluster, err)
	}
	for _, f := range out.Failures {
		if aws.ToString(f.Reason) == "MISSING" {
			return nil, fmt.Errorf("service %q not found in cluster %q: the migration runs with the task definition of the color being deployed", name, m.cfg.Cluster)
		}
		return nil, fmt.Errorf("describing service %q in cluster %q: %s %s", name, m.cfg.Cluster, aws.ToString(f.Reason), aws.ToString(f.Detail))
	}
	if len(out.Services) == 0 {
		return nil, fmt.Errorf("service %q not found in cluster %q", name, m.cfg.Cluster)
	}
	svc := &out.Services[0]
	if status := aws.ToString(svc.Status); status != "ACTIVE" {
		return nil, fmt.Errorf("service %q in cluster %q is %s, not ACTIVE", name, m.cfg.Cluster, status)
	}
	if aws.ToString(svc.TaskDefinition) == "" {
		return nil, fmt.Errorf("service %q in cluster %q names no task definition (its deployments are run by %s)", name, m.cfg.Cluster, controller(svc))
	}
	return svc, nil
}

func controller(svc *types.Service) string {
	if svc.DeploymentController == nil {
		return "an unknown controller"
	}
	return string(svc.DeploymentController.Type)
}

// pickContainer returns the named container, or the first essential one.
func pickContainer(defs []types.ContainerDefinition, name string) (types.ContainerDefinition, error) {
	var names []string
	for _, d := range defs {
		if name == "" && (d.Essential == nil || *d.Essential) || name != "" && aws.ToString(d.Name) == name {
			return d, nil
		}
		names = append(names, aws.ToString(d.Name))
	}
	if name == "" {
		return types.ContainerDefinition{}, errors.New("finding the container to run the migration in: no essential container")
	}
	return types.ContainerDefinition{}, fmt.Errorf("finding container %q to run the migration in: valid containers are %q", name, names)
}

// runInput is the RunTask request: the service's task definition,
// network, placement and capacity, with the command in container.
func runInput(cluster string, svc *types.Service, td *types.TaskDefinition, container string, phase migrate.Phase, command []string, token string) *awsecs.RunTaskInput {
	in := &awsecs.RunTaskInput{
		Cluster:              aws.String(cluster),
		TaskDefinition:       td.TaskDefinitionArn,
		Count:                aws.Int32(1),
		ClientToken:          aws.String(token),
		StartedBy:            aws.String(startedBy(phase)),
		NetworkConfiguration: svc.NetworkConfiguration,
		PlacementConstraints: svc.PlacementConstraints,
		PlacementStrategy:    svc.PlacementStrategy,
		PlatformVersion:      svc.PlatformVersion,
		Overrides: &types.TaskOverride{ContainerOverrides: []types.ContainerOverride{
			{Name: aws.String(container), Command: command},
		}},
	}
	// A service gives one or the other; RunTask refuses both. With
	// neither, ECS uses the cluster's default strategy, as the service
	// does.
	if len(svc.CapacityProviderStrategy) > 0 {
		in.CapacityProviderStrategy = svc.CapacityProviderStrategy
	} else {
		in.LaunchType = svc.LaunchType
	}
	return in
}

var notStartedBy = regexp.MustCompile(`[^a-zA-Z0-9_-]+`)

// startedBy marks the task for ListTasks; ECS allows 128 letters,
// numbers, hyphens and underscores.
func startedBy(phase migrate.Phase) string {
	s := notStartedBy.ReplaceAllString("bluegreen-migrate-"+string(phase), "-")
	return s[:min(len(s), 128)]
}

// clientToken makes RunTask idempotent: retried with the same token, ECS
// returns the task it started the first time instead of a second one.
func clientToken() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("making a RunTask client token: %w", err)
	}
	return "bluegreen-" + hex.EncodeToString(b), nil
}

// run starts the task. Throttling after the SDK's own retries is retried
// here too, with the same client token.
func (m *Migrator) run(ctx context.Context, in *awsecs.RunTaskInput, service string) (types.Task, error) {
	for {
		out, err := m.cfg.API.RunTask(ctx, in)
		if awsapi.IsThrottle(err) && awsapi.Sleep(ctx, m.poll) == nil {
			continue
		}
		if err != nil {
			return types.Task{}, fmt.Errorf("running the migration task of service %q: %w", service, err)
		}
		if len(out.Tasks) == 0 {
			var why []string
			for _, f := range out.Failures {
				why = append(why, strings.TrimSpace(aws.ToString(f.Reason)+" "+aws.ToString(f.Detail)))
			}
			return types.Task{}, fmt.Errorf("running the migration task of service %q: ECS started no task: %s", service, orNone(strings.Join(why, "; ")))
		}
		return out.Tasks[0], nil
	}
}

func orNone(s string) string {
	if s == "" {
		return "no reason given"
	}
	return s
}

// revision is family:revision from a task definition ARN.
func revision(ref string) string { return ref[strings.LastIndex(ref, "/")+1:] }

// taskID is the last part of a task ARN, what the console shows.
func taskID(t types.Task) string {
	arn := aws.ToString(t.TaskArn)
	return arn[strings.LastIndex(arn, "/")+1:]
}
