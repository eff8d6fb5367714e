package config

import (
	"context"
	"errors"
	"strings"

	"github.com/sethvargo/go-envconfig"

	"github.com/bluegreen-dev/bluegreen-action/internal/command"
)

// Config is every input of a run. The env tag is the input's name in
// upper snake case; see Lookuper for the two spellings it is read from.
// Inputs are documented for users in action.yml; keep the two in step.
type Config struct {
	Command     command.Name `env:"COMMAND, default=deploy"`
	Platform    string       `env:"PLATFORM, default=kubernetes"`
	App         string       `env:"APP"`
	Image       string       `env:"IMAGE"`
	DryRun      Bool         `env:"DRY_RUN, default=false"`
	WaitTimeout Duration     `env:"WAIT_TIMEOUT, default=10m"`
	// RequestTimeout bounds one API call, so that a server that accepts
	// a connection and never answers cannot hang a run.
	RequestTimeout Duration `env:"REQUEST_TIMEOUT, default=30s"`
	ResultFile     string   `env:"RESULT_FILE"`
	GitSHA         string   `env:"GIT_SHA"`
	RunURL         string   `env:"RUN_URL"`

	// Router moves traffic between colors; the default depends on the
	// platform (service on kubernetes).
	Router string `env:"ROUTER"`

	VerifyURL     string   `env:"VERIFY_URL"`
	VerifyTimeout Duration `env:"VERIFY_TIMEOUT, default=2m"`
	VerifyStatus  string   `env:"VERIFY_STATUS"`
	VerifyBody    string   `env:"VERIFY_BODY"`
	VerifyHeaders string   `env:"VERIFY_HEADERS"`
	ProductionURL string   `env:"PRODUCTION_URL"`
	BakeTime      Duration `env:"BAKE_TIME, default=0s"`
	// TrafficSteps moves traffic in steps (percent to the new color, e.g.
	// 10,50,100) on routers that can split; empty moves it all at once.
	TrafficSteps     List     `env:"TRAFFIC_STEPS"`
	TrafficStepPause Duration `env:"TRAFFIC_STEP_PAUSE, default=1m"`
	// SplitWeight is the percent of traffic command split gives the new
	// release; StickyDuration keeps a client on the color it reached while
	// traffic is split, on routers that can.
	SplitWeight    string   `env:"SPLIT_WEIGHT"`
	StickyDuration Duration `env:"STICKY_DURATION"`
	ScaleDownAfter Duration `env:"SCALE_DOWN_AFTER"`
	LockTimeout    Duration `env:"LOCK_TIMEOUT, default=0s"`

	// Migrations: commands run with the new image before the switch
	// (expand) and after the bake (contract), and built-in SQL migrations.
	MigrateBefore            Command `env:"MIGRATE_BEFORE"`
	MigrateAfter             Command `env:"MIGRATE_AFTER"`
	MigrationsDir            string  `env:"MIGRATIONS_DIR"`
	DatabaseURL              string  `env:"DATABASE_URL"`
	RollbackOnMigrateFailure Bool    `env:"ROLLBACK_ON_MIGRATE_FAILURE, default=false"`

	// Container names the container that runs image, in a pod or a task
	// definition; empty means the first (essential) one.
	Container string `env:"CONTAINER"`

	Kubernetes Kubernetes
	AWS        AWS
	Promote    Promote
	Hosts      Hosts
	Gates      Gates
}

// AWS holds the inputs of platform ecs and routers alb, elb and route53,
// and eks-cluster for platform kubernetes.
type AWS struct {
	Region string `env:"REGION"`

	Cluster          string `env:"CLUSTER"`
	TaskDefinition   string `env:"TASK_DEFINITION"`
	TargetGroupBlue  string `env:"TARGET_GROUP_BLUE"`
	TargetGroupGreen string `env:"TARGET_GROUP_GREEN"`

	ListenerARN     string `env:"LISTENER_ARN"`
	RuleARN         string `env:"RULE_ARN"`
	TestListenerARN string `env:"TEST_LISTENER_ARN"`

	LoadBalancerName string `env:"LOAD_BALANCER_NAME"`
	ListenerPorts    List   `env:"LISTENER_PORTS"`

	HostedZoneID string `env:"HOSTED_ZONE_ID"`
	RecordName   string `env:"RECORD_NAME"`

	EKSCluster string `env:"EKS_CLUSTER"`
}

// Promote holds the inputs of image promotion (command promote, or the
// first step of a deploy when source-image is set).
type Promote struct {
	SourceImage      string `env:"SOURCE_IMAGE"`
	ECRRepository    string `env:"ECR_REPOSITORY"`
	Tags             List   `env:"TAGS"`
	CreateRepository Bool   `env:"CREATE_REPOSITORY, default=false"`
	ScanOnPush       Bool   `env:"SCAN_ON_PUSH, default=true"`
	TagImmutability  Bool   `env:"TAG_IMMUTABILITY, default=false"`
}

// Kubernetes holds the inputs of platform kubernetes and routers service,
// gateway and ingress.
type Kubernetes struct {
	Namespace      string `env:"NAMESPACE, default=default"`
	Kubeconfig     string `env:"KUBECONFIG"`
	Manifest       string `env:"MANIFEST"`
	Service        string `env:"SERVICE"`
	PreviewService string `env:"PREVIEW_SERVICE"`
	Route          string `env:"ROUTE"`
	Ingress        string `env:"INGRESS"`
}

// Load reads the inputs through l (see Lookuper) and applies defaults. It
// reports a value that cannot be parsed as an *Error naming its input; it
// does not check how inputs fit together, Validate does.
func Load(ctx context.Context, l envconfig.Lookuper) (*Config, error) {
	rec := &recordingLookuper{next: l}
	var c Config
	err := envconfig.ProcessWith(ctx, &envconfig.Config{Target: &c, Lookuper: rec})
	if err != nil {
		var ve *valueError
		if errors.As(err, &ve) {
			return nil, &Error{Input: InputName(rec.last), Msg: ve.Error()}
		}
		return nil, err
	}
	c.defaults()
	return &c, nil
}

// defaults fills the inputs whose default depends on other inputs.
func (c *Config) defaults() {
	c.Command = command.Name(strings.ToLower(strings.TrimSpace(string(c.Command))))
	c.Platform = strings.ToLower(strings.TrimSpace(c.Platform))
	c.Router = strings.ToLower(strings.TrimSpace(c.Router))
	if c.Router == "" {
		c.Router = defaultRouter(c.Platform)
	}
	if c.Hosts.Backend == "" && c.Platform == "hosts" && c.Router == "haproxy" {
		c.Hosts.Backend = c.App
	}
	k := &c.Kubernetes
	if k.Service == "" && c.App != "" {
		k.Service = c.App
	}
	if k.PreviewService == "" && c.App != "" {
		k.PreviewService = c.App + "-preview"
	}
}

// recordingLookuper remembers the last key looked up. envconfig decodes
// fields one at a time right after looking each up, so when a decoder fails
// the last key is the input that held the bad value; envconfig's own error
// names only the Go field.
type recordingLookuper struct {
	next envconfig.Lookuper
	last string
}

func (r *recordingLookuper) Lookup(key string) (string, bool) {
	r.last = key
	return r.next.Lookup(key)
}

// Lookuper reads an input from the GitHub Action spelling first
// (INPUT_WAIT-TIMEOUT, as the runner sets it) when that is non-empty, and
// from BLUEGREEN_WAIT_TIMEOUT otherwise. getenv is os.Getenv in production.
//
// The runner sets every declared input, empty when the workflow did not
// give it, so an empty action input must fall through to the plain
// variable and then to the default.
func Lookuper(getenv func(string) string) envconfig.Lookuper {
	return envconfig.LookuperFunc(func(key string) (string, bool) {
		if v := getenv("INPUT_" + strings.ReplaceAll(key, "_", "-")); v != "" {
			return v, true
		}
		if v := getenv("BLUEGREEN_" + key); v != "" {
			return v, true
		}
		return "", false
	})
}
