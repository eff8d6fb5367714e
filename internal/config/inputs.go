package config

import (
	"slices"
	"strings"

	"github.com/bluegreen-dev/bluegreen-action/internal/command"
)

// Input is one input as users meet it: in a workflow's `with:`, as a
// BLUEGREEN_* variable in any other CI, in `bluegreen <command> --help` and
// in the README's inputs table. action.yml declares the same inputs with the
// same defaults and descriptions; TestInputsMatchAction keeps the two, and
// Config's env tags, in step, and prints the row to add when they differ.
type Input struct {
	// Name is the input as a workflow writes it: wait-timeout.
	Name string
	// Default is the value an unset input takes; empty for none (a default
	// that depends on other inputs is told in Description instead).
	Default string
	// Commands are the commands that read the input.
	Commands []command.Name
	// Description is action.yml's description, folded onto one line.
	Description string
}

// Env is the input's spelling as an environment variable in any CI:
// BLUEGREEN_WAIT_TIMEOUT.
func (i Input) Env() string {
	return "BLUEGREEN_" + strings.ToUpper(strings.ReplaceAll(i.Name, "-", "_"))
}

// Inputs returns every input, in action.yml's order.
func Inputs() []Input { return slices.Clone(inputs) }

// InputsOf returns the inputs that command c reads, in action.yml's order.
func InputsOf(c command.Name) []Input {
	var out []Input
	for _, in := range inputs {
		if slices.Contains(in.Commands, c) {
			out = append(out, in)
		}
	}
	return out
}

// Who reads what. platformCommands act on the two colors of an app.
var (
	allCommands      = command.All()
	platformCommands = []command.Name{command.Deploy, command.Prepare, command.Switch, command.Abort, command.Rollback, command.Status, command.History}
)

// cmds lists the commands that read an input; a test checks each is known.
func cmds(c ...command.Name) []command.Name { return c }

var inputs = []Input{
	{
		Name:     "command",
		Default:  "deploy",
		Commands: allCommands,
		Description: "What to do. `deploy`: roll `image` out to the idle color, wait until it is " +
			"ready and checked, then move traffic to it. `prepare`: the same up to and " +
			"including `migrate-before`, then stop with the new color warm behind the " +
			"preview and recorded as prepared (`result` is `prepared`). `switch`: from a " +
			"later job, after an approval, move traffic to the prepared color as a deploy " +
			"does (refused when nothing is prepared, the color changed since, it is not " +
			"ready, or `image` is another one). `abort`: scale the prepared color to 0 and " +
			"point the preview back at the live color; production is not touched. " +
			"`rollback`: move traffic back to " +
			"the other color, scaling it up first if it was scaled down. `status`: show " +
			"what runs in each color, which one serves traffic, and a release prepared and " +
			"waiting for a switch. `history`: list past " +
			"deploys and rollbacks. `promote`: copy `source-image` by digest to " +
			"`ecr-repository` (no Docker daemon). `verify`: check `verify-url` (with " +
			"`verify-status`, `verify-body`, `verify-headers`) until it passes or " +
			"`verify-timeout`; needs no `app`. `split`: deploy `image` to the idle color " +
			"as `deploy` does up to verify, then send it `split-weight` percent of traffic " +
			"and stop with both colors live (result `split`); a later `switch`, or `deploy` " +
			"of the same image, finishes it to 100%, `rollback` takes all traffic back.",
	},
	{
		Name:     "app",
		Commands: platformCommands,
		Description: "The application's name. Required by every command. Lower-case letters, digits " +
			"and `-`, starting with a letter, at most 55 characters. Other names derive " +
			"from it: the colors are `<app>-blue` and `<app>-green`, and on Kubernetes " +
			"`service` and `preview-service` default to `<app>` and `<app>-preview`.",
	},
	{
		Name:     "image",
		Commands: cmds(command.Deploy, command.Prepare, command.Switch),
		Description: "The image to deploy. Required by `deploy` and `prepare`. A tag or a digest " +
			"reference, e.g. `ghcr.io/acme/shop:1.4.2` or `ghcr.io/acme/shop@sha256:...`. " +
			"With `switch` it is optional: when given, the switch is refused unless it is " +
			"the prepared image.",
	},
	{
		Name:     "dry-run",
		Default:  "false",
		Commands: cmds(command.Deploy, command.Prepare, command.Switch, command.Abort, command.Rollback, command.Status, command.History, command.Promote),
		Description: "`true` to check the inputs and the live system and print what would change, " +
			"without writing anything; `false` to make the changes. Kubernetes writes go as " +
			"server-side dry runs; the AWS APIs have no dry run, so there the writes are built and " +
			"validated, not sent.",
	},
	{
		Name:     "platform",
		Default:  "kubernetes",
		Commands: platformCommands,
		Description: "Where the two colors run. `kubernetes`: Deployments `<app>-blue` and " +
			"`<app>-green`. `ecs`: ECS services `<app>-blue` and `<app>-green` in " +
			"`cluster`. `hosts`: machines bluegreen does not manage, behind HAProxy; " +
			"`deploy-command` deploys to them.",
	},
	{
		Name:     "router",
		Commands: platformCommands,
		Description: "How traffic moves between the colors. With platform `kubernetes`: `service` " +
			"(the selector of the production Service picks the live color) or `gateway` " +
			"(the weights of the backends of a Gateway API HTTPRoute; needs `route`) or " +
			"`ingress` (the backends of an Ingress name the live color's Service " +
			"`<app>-blue` or `<app>-green`; any controller; needs `ingress`; no traffic " +
			"steps). With platform `ecs`: `alb` (weighted forward of an ALB listener or " +
			"rule). With either: `elb` (a classic ELB's listeners switched between the " +
			"colors' ports, kept in the ELB's tags `blue` and `green`) or `route53` " +
			"(weighted records). Default depends on `platform`: `service` on " +
			"`kubernetes`, `alb` on `ecs`, `haproxy` (server weights through the Runtime " +
			"API) on `hosts`.",
	},
	{
		Name:     "wait-timeout",
		Default:  "10m",
		Commands: cmds(command.Deploy, command.Prepare, command.Switch, command.Rollback),
		Description: "How long to wait for every replica of the new color to be ready. When it runs " +
			"out the run fails and traffic stays where it was. A duration more than 0, e.g." +
			" `90s` or `10m`.",
	},
	{
		Name:     "request-timeout",
		Default:  "30s",
		Commands: append(slices.Clone(platformCommands), command.Promote),
		Description: "How long one call to an API (Kubernetes, AWS, a registry) may go unanswered " +
			"before it fails; a registry's blob transfers are bounded only until they start. " +
			"The first call to a cluster is retried a few times when it fails for a passing " +
			"reason (refused, reset, 5xx, 429); an AWS call spends at most twice this, its " +
			"retries included. A server that never answers ends the run with exit 1 rather " +
			"than a hung job. A duration more than 0, e.g. `30s`.",
	},
	{
		Name:     "verify-url",
		Commands: cmds(command.Deploy, command.Prepare, command.Verify),
		Description: "An http or https URL that reaches the new color through the preview route " +
			"before it gets any production traffic. It is requested until it answers 2xx, " +
			"for up to `verify-timeout`; traffic moves only after that. Empty: no such " +
			"check.",
	},
	{
		Name:     "verify-timeout",
		Default:  "2m",
		Commands: cmds(command.Deploy, command.Prepare, command.Verify),
		Description: "How long `verify-url` may take to answer 2xx. A duration more than 0, e.g. " +
			"`2m`.",
	},
	{
		Name:     "verify-status",
		Commands: cmds(command.Deploy, command.Prepare, command.Verify),
		Description: "The statuses `verify-url` must answer with: a code (`200`), a range " +
			"(`200-299`), a class (`2xx`) or several separated by commas (`200,204`). " +
			"Empty: any 2xx.",
	},
	{
		Name:     "verify-body",
		Commands: cmds(command.Deploy, command.Prepare, command.Verify),
		Description: "What the body of `verify-url`'s answer must hold: a substring, or a regular " +
			"expression between slashes (`/\"status\":\\s*\"ok\"/`). Empty: any body.",
	},
	{
		Name:     "verify-headers",
		Commands: cmds(command.Deploy, command.Prepare, command.Verify),
		Description: "Headers sent with the `verify-url` request, one `Name: value` a line; `Host` " +
			"sets the virtual host. Values are masked in the log.",
	},
	{
		Name:     "production-url",
		Commands: cmds(command.Deploy, command.Switch, command.Rollback),
		Description: "An http or https URL of the live application, requested throughout `bake-time`" +
			" (so it needs one); three failures in a row fail the bake and put traffic " +
			"back. Empty: no such check.",
	},
	{
		Name:     "bake-time",
		Default:  "0s",
		Commands: cmds(command.Deploy, command.Switch, command.Rollback),
		Description: "How long to watch the new color after traffic has moved, before the run " +
			"reports success: every replica must stay ready, no container may restart, and " +
			"`production-url`, when given, must keep answering 2xx. A failure puts traffic " +
			"back on the previous color. A duration, e.g. `5m`; `0s` for none.",
	},
	{
		Name:     "traffic-steps",
		Commands: cmds(command.Deploy, command.Switch),
		Description: "Move traffic in steps instead of all at once: the percentages the new color " +
			"gets in turn, rising, e.g. `10,50,100` (100 is added when missing). Between " +
			"steps the new color is watched for `traffic-step-pause` like during the bake; " +
			"a failure puts all traffic back. Needs a router that can split traffic: " +
			"`gateway`, `alb` or `route53`. Empty: all at once.",
	},
	{
		Name:        "traffic-step-pause",
		Default:     "1m",
		Commands:    cmds(command.Deploy, command.Switch),
		Description: "How long each traffic step is watched before the next. A duration, e.g. `1m`.",
	},
	{
		Name:     "split-weight",
		Commands: cmds(command.Split),
		Description: "The percent of traffic `command: split` sends to the new release, from 1 to " +
			"99, e.g. `10`; the release that was live keeps the rest. `50` followed by a " +
			"`switch` is red/black: both colors serve at once during the change. Needs a " +
			"router that can split traffic: `gateway`, `alb`, `route53` or `haproxy`.",
	},
	{
		Name:     "sticky-duration",
		Commands: cmds(command.Deploy, command.Switch, command.Split, command.Rollback),
		Description: "While traffic is split (by `split`, or between `traffic-steps`), keep each " +
			"client on the color it first reached for this long: ALB target-group stickiness " +
			"on the weighted forward, or Gateway API session persistence where the cluster's " +
			"HTTPRoute CRD has it (refused before any write where it does not). On `haproxy` " +
			"the backend's own cookie persistence keeps clients, for as long as its `cookie` " +
			"line in haproxy.cfg says (the Runtime API cannot set it; the run warns); the run " +
			"is refused before any write unless the backend has a `cookie` line and every " +
			"server a `cookie` value. Moving all traffic to one color turns it off again. " +
			"Whole seconds up to `168h`, e.g. `1h`. Router `alb`, `gateway` or `haproxy` only. " +
			"Empty: bluegreen asks for no stickiness (HAProxy's cookie persistence still " +
			"applies where haproxy.cfg sets it).",
	},
	{
		Name:     "scale-down-after",
		Commands: cmds(command.Deploy, command.Switch),
		Description: "How long to keep the previous color running after a successful switch before " +
			"scaling it to 0 replicas; the job waits that long, and skips the scale-down if" +
			" the previous color gets traffic again meanwhile. Empty: the previous color " +
			"stays warm, so that a `rollback` is a single routing change. A duration, e.g. " +
			"`15m`.",
	},
	{
		Name:     "lock-timeout",
		Default:  "0s",
		Commands: cmds(command.Deploy, command.Prepare, command.Switch, command.Abort, command.Rollback),
		Description: "How long to wait when another run holds this app's deploy lock (the error " +
			"names the holder, usually its CI run). A duration, e.g. `10m`; `0s` fails at " +
			"once.",
	},
	{
		Name:     "migrate-before",
		Commands: cmds(command.Deploy, command.Prepare),
		Description: "A command run with the new image and the new color's configuration " +
			"(environment, secrets, identity) after the new color is ready and before any " +
			"traffic moves: the expand half of a schema change, which the old release must " +
			"survive. On Kubernetes a Job from the new color's pod template, on ECS a task." +
			" A failure means no switch. Words separated by spaces (quotes keep spaces) or " +
			"a JSON array; no shell.",
	},
	{
		Name:     "migrate-after",
		Commands: cmds(command.Deploy, command.Switch),
		Description: "A command run like `migrate-before`, after the switch and the bake succeed: " +
			"the contract half, once the old release no longer serves. A failure is " +
			"reported loudly but traffic stays on the new release, because the schema may " +
			"already be contracted; see `rollback-on-migrate-failure`.",
	},
	{
		Name:     "rollback-on-migrate-failure",
		Default:  "false",
		Commands: cmds(command.Deploy, command.Switch),
		Description: "`true` to move traffic back to the previous color when `migrate-after` fails. " +
			"Only safe when the contract migration changes nothing the old release needs " +
			"before it fails.",
	},
	{
		Name:     "migrations-dir",
		Commands: cmds(command.Deploy, command.Prepare),
		Description: "A folder of SQL migration files (goose format: `-- +goose Up`), applied to " +
			"`database-url` before the switch, under a database advisory lock so two runs " +
			"never migrate at once. For CIs that can reach the database; `dry-run` lists " +
			"the pending files.",
	},
	{
		Name:     "database-url",
		Commands: cmds(command.Deploy, command.Prepare),
		Description: "The PostgreSQL URL for `migrations-dir`, e.g. from a secret. It is masked and " +
			"never shown, not even in errors.",
	},
	{
		Name:     "result-file",
		Commands: allCommands,
		Description: "Outside GitHub Actions (where the outputs and the step summary carry the " +
			"result), the path of a JSON file to write the run's result to. Its folder must" +
			" exist. Empty: no file.",
	},
	{
		Name:     "git-sha",
		Commands: cmds(command.Deploy, command.Prepare, command.Switch, command.Abort, command.Rollback, command.Promote),
		Description: "The commit being deployed, recorded with the deployment and shown by `history`" +
			" and `status`. Default depends on the CI: `GITHUB_SHA`, `CIRCLE_SHA1`, " +
			"`TRAVIS_COMMIT` or `CI_COMMIT_SHA`, whichever is set.",
	},
	{
		Name:     "run-url",
		Commands: cmds(command.Deploy, command.Prepare, command.Switch, command.Abort, command.Rollback),
		Description: "A link to the CI run, recorded with the deployment so that `history` can point" +
			" back to it. Default depends on the CI: on GitHub the run's page, elsewhere " +
			"`CIRCLE_BUILD_URL`, `TRAVIS_JOB_WEB_URL`, `CI_JOB_URL` or `BUILD_URL`, " +
			"whichever is set.",
	},
	{
		Name:     "container",
		Commands: cmds(command.Deploy, command.Prepare, command.Switch),
		Description: "The container that runs `image`: in the app's pods on Kubernetes, in the task " +
			"definition on ECS. Empty: the first (essential) container.",
	},
	{
		Name:        "namespace",
		Default:     "default",
		Commands:    platformCommands,
		Description: "The namespace of the app's Deployments, Services and HTTPRoute.",
	},
	{
		Name:     "kubeconfig",
		Commands: platformCommands,
		Description: "Access to the cluster: the path of a kubeconfig file, or the file's content " +
			"itself (e.g. from a secret); its credentials are masked in the log. The " +
			"action's container sees only the workspace: a path in it, relative or " +
			"absolute as on the runner, is read there; a path elsewhere on the runner " +
			"(`$RUNNER_TEMP`, `~/.kube`, where set-up actions write) is refused with what " +
			"works instead: the content, or the `setup` action and `run: bluegreen`, " +
			"which also runs credential plugins (exec). Empty: `$KUBECONFIG` or " +
			"`~/.kube/config`, then the in-cluster service account.",
	},
	{
		Name:     "manifest",
		Commands: cmds(command.Deploy, command.Prepare),
		Description: "Path of a YAML file with exactly one Deployment, which each color is made " +
			"from, and optionally one Service, which the production, preview and per-color " +
			"Services are made from; other kinds are refused. Relative paths start at the " +
			"workspace. Empty: a color is made from the other color's Deployment in the " +
			"cluster, so the first deploy needs a manifest.",
	},
	{
		Name:     "service",
		Commands: platformCommands,
		Description: "The production Service, whose traffic moves between the colors. A Service name" +
			" (lower-case letters, digits and `-`, at most 63 characters). Default depends " +
			"on `app`: `<app>`.",
	},
	{
		Name:     "preview-service",
		Commands: cmds(command.Deploy, command.Prepare, command.Abort, command.Status),
		Description: "A Service that points at the idle color, for checks before it gets production " +
			"traffic. A Service name other than `service`. Default depends on `app`: " +
			"`<app>-preview`.",
	},
	{
		Name:     "route",
		Commands: platformCommands,
		Description: "The name of the HTTPRoute whose backends `<app>-blue` and `<app>-green` carry " +
			"the traffic. Required with router `gateway`, and only accepted with it.",
	},
	{
		Name:     "ingress",
		Commands: platformCommands,
		Description: "The name of the Ingress (networking.k8s.io/v1) whose backends naming " +
			"`<app>-blue` or `<app>-green` carry the traffic; backends naming other " +
			"Services are left alone. Required with router `ingress`, and only accepted " +
			"with it.",
	},
	{
		Name:        "region",
		Commands:    cmds(command.Deploy, command.Prepare, command.Switch, command.Abort, command.Rollback, command.Status, command.History, command.Promote),
		Description: "The AWS region. Empty: `AWS_REGION` or the profile's region.",
	},
	{
		Name:     "eks-cluster",
		Commands: platformCommands,
		Description: "With platform `kubernetes`: the name of an EKS cluster to connect to with the " +
			"AWS credentials (its endpoint and CA from DescribeCluster, a token from STS), " +
			"instead of `kubeconfig`. The image has no AWS CLI, so kubeconfigs that call " +
			"`aws eks get-token` cannot work there.",
	},
	{
		Name:     "cluster",
		Commands: platformCommands,
		Description: "With platform `ecs`: the ECS cluster (name or ARN) of the services " +
			"`<app>-blue` and `<app>-green`. Required with `ecs`.",
	},
	{
		Name:     "task-definition",
		Commands: cmds(command.Deploy, command.Prepare),
		Description: "With platform `ecs`: path of a task definition JSON file each deploy registers" +
			" a revision of, with `image` in `container`. Empty: the live color's current " +
			"task definition with the image replaced.",
	},
	{
		Name:     "target-group-blue",
		Commands: platformCommands,
		Description: "The ARN of the blue color's target group. Empty: read from the ECS service " +
			"`<app>-blue`.",
	},
	{
		Name:     "target-group-green",
		Commands: platformCommands,
		Description: "The ARN of the green color's target group. Empty: read from the ECS service " +
			"`<app>-green`.",
	},
	{
		Name:     "listener-arn",
		Commands: platformCommands,
		Description: "With router `alb`: the ARN of the production listener, whose forward action is" +
			" switched between the colors' target groups. Required with `alb`.",
	},
	{
		Name:     "rule-arn",
		Commands: platformCommands,
		Description: "With router `alb`: the ARN of a listener rule to switch instead of the " +
			"listener's default action.",
	},
	{
		Name:     "test-listener-arn",
		Commands: cmds(command.Deploy, command.Prepare, command.Abort),
		Description: "With router `alb`: the ARN of a test listener, pointed at the new color before" +
			" the switch so that `verify-url` can reach it.",
	},
	{
		Name:     "load-balancer-name",
		Commands: platformCommands,
		Description: "With router `elb`: the classic load balancer. Its tags `blue` and `green` hold" +
			" the instance ports of the colors; the live color is the one its listeners " +
			"forward to. Required with `elb`.",
	},
	{
		Name:     "listener-ports",
		Commands: platformCommands,
		Description: "With router `elb`: the load balancer ports whose listeners are switched, e.g. " +
			"`80,443`. Empty: every listener of the load balancer that forwards to a color's " +
			"instance port (its tags `blue` and `green`).",
	},
	{
		Name:     "hosted-zone-id",
		Commands: platformCommands,
		Description: "With router `route53`: the hosted zone of `record-name`. Required with " +
			"`route53`.",
	},
	{
		Name:     "record-name",
		Commands: platformCommands,
		Description: "With router `route53`: the name of the two weighted records, set identifiers " +
			"`blue` and `green`, each pointing at one color. Required with `route53`.",
	},
	{
		Name:     "deploy-command",
		Commands: cmds(command.Deploy, command.Prepare),
		Description: "With platform `hosts`: the command that puts `image` on the idle color's " +
			"machines (containers or VMs bluegreen does not manage). It runs on the CI " +
			"runner with `BLUEGREEN_APP`, `BLUEGREEN_COLOR` and `BLUEGREEN_IMAGE` set, " +
			"its output streamed into the log; a non-zero exit fails the run before any " +
			"traffic moves. Words as in `migrate-before`. Required to deploy with " +
			"`hosts`.",
	},
	{
		Name:     "version-path",
		Default:  "/version",
		Commands: platformCommands,
		Description: "With platform `hosts`: the path every server answers `GET` on with the " +
			"release it runs (the `image` value it was deployed with). A color is ready " +
			"when every server of it is UP in HAProxy's health checks and answers the " +
			"wanted release here.",
	},
	{
		Name:     "haproxy-runtime-api",
		Commands: platformCommands,
		Description: "With router `haproxy`: HAProxy's Runtime API (a stats socket at `level " +
			"admin`), `host:port` or `unix:/path/to/socket`. Required with `haproxy`. " +
			"Unreachable or below admin level is a bad input (exit 2).",
	},
	{
		Name:     "haproxy-backend",
		Commands: platformCommands,
		Description: "With router `haproxy`: the backend whose servers carry the traffic. Each " +
			"server belongs to the color its name starts with (`blue1`, `green-a`); the " +
			"live color is the one whose servers carry weight. Default `<app>`.",
	},
	{
		Name:     "haproxy-preview-backend",
		Commands: cmds(command.Deploy, command.Prepare, command.Abort),
		Description: "With router `haproxy`: a second backend, with servers of both colors like " +
			"`haproxy-backend`, pointed at the new color before `verify-url` is checked. " +
			"Without it the new color is reached at its servers' own addresses.",
	},
	{
		Name:     "haproxy-history-map",
		Commands: platformCommands,
		Description: "With router `haproxy`: the path of a map file HAProxy's configuration loads " +
			"(e.g. `http-request set-var(txn.bluegreen) " +
			"str(x),map(/etc/haproxy/bluegreen.map)`); history is kept in that map " +
			"through the Runtime API. HAProxy holds it in memory: a reload starts again " +
			"from the file. Without it no history is kept.",
	},
	{
		Name:     "gate-prometheus",
		Commands: cmds(command.Deploy, command.Switch, command.Rollback),
		Description: "A PromQL expression checked against `prometheus-url` between traffic steps " +
			"and during the bake (once after the switch when there is no bake); the gate " +
			"fails, and traffic goes back, when it returns a sample whose value is not " +
			"zero, e.g. " +
			"`sum(rate(haproxy_server_http_responses_total{code=\"5xx\",proxy=\"shop\"}[30s])) " +
			"> 1`. It is run once before any write: an expression Prometheus refuses is a " +
			"bad input (exit 2).",
	},
	{
		Name:     "prometheus-url",
		Commands: cmds(command.Deploy, command.Switch, command.Rollback),
		Description: "The Prometheus server `gate-prometheus` is asked, e.g. " +
			"`http://prometheus:9090`. Required with `gate-prometheus`.",
	},
	{
		Name:     "gate-cloudwatch-alarms",
		Commands: cmds(command.Deploy, command.Switch, command.Rollback),
		Description: "CloudWatch alarm names (metric or composite, separated by commas or " +
			"newlines) checked between traffic steps and during the bake; the gate fails, " +
			"and traffic goes back, when any is in state ALARM. An unknown name is a bad " +
			"input (exit 2). Needs `cloudwatch:DescribeAlarms`.",
	},
	{
		Name:     "source-image",
		Commands: cmds(command.Deploy, command.Prepare, command.Promote),
		Description: "The image to promote: a registry reference (a tag is resolved once to its " +
			"digest, and that digest is copied), an OCI layout folder, or a `docker save` " +
			"tarball. With command `deploy`, the promoted digest is then deployed.",
	},
	{
		Name:     "ecr-repository",
		Commands: cmds(command.Deploy, command.Prepare, command.Promote),
		Description: "Where `source-image` is copied to: an ECR repository name (`shop`, in the " +
			"account and `region` of the credentials), a full " +
			"`<account>.dkr.ecr.<region>.amazonaws.com/<name>`, or any other registry's " +
			"repository (Docker config credentials).",
	},
	{
		Name:     "tags",
		Commands: cmds(command.Deploy, command.Prepare, command.Promote),
		Description: "Tags to give the promoted image, separated by commas or newlines. Empty: the " +
			"git sha.",
	},
	{
		Name:     "create-repository",
		Default:  "false",
		Commands: cmds(command.Deploy, command.Prepare, command.Promote),
		Description: "`true` to create a missing ECR repository; `false` makes a missing one an " +
			"error.",
	},
	{
		Name:        "scan-on-push",
		Default:     "true",
		Commands:    cmds(command.Deploy, command.Prepare, command.Promote),
		Description: "For a repository created by `create-repository`: scan images on push.",
	},
	{
		Name:        "tag-immutability",
		Default:     "false",
		Commands:    cmds(command.Deploy, command.Prepare, command.Promote),
		Description: "For a repository created by `create-repository`: make its tags immutable.",
	},
}
