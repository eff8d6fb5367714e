// Package kubejob runs a migration command on Kubernetes as a Job made
// from the pod template of the color being deployed, for deploys on the
// Kubernetes platform.
//
// Migrate reads the color's Deployment (<app>-<color>) and copies its pod
// template into a Job named <app>-migrate-<phase>-<random suffix>: same
// image, environment, envFrom, volumes, secrets and service account, so
// the migration runs with what the release will serve with. In the chosen
// container the command is replaced by the migration command and the
// arguments are cleared; its probes are removed, because a migration is
// not a server. Only that container runs: the template's other regular
// containers (sidecars that never exit would keep the Job from ever
// completing) are left out and Migrate says so; init containers stay,
// native sidecars (init containers with restartPolicy Always) included.
//
// The Job runs once (backoffLimit 0, restartPolicy Never), is bounded by
// ctx's deadline (activeDeadlineSeconds) and is deleted by Kubernetes a
// day after it finished (ttlSecondsAfterFinished; see WithTTL), which
// leaves its pod and logs to look at meanwhile. Its labels are the app
// label and bluegreen.dev/migration=<phase>; the pod template loses the
// color label, so that the color's Service never sends traffic to the
// migration's pod.
//
// Migrate follows the pod's log once its container runs and hands every
// line to the log function; when the logs cannot be read (no kubelet
// reachable, as under kwok) it says so and carries on. It watches the Job
// until it is Complete or Failed. A failed Job is a *FailedError with the
// Job's reason, the container's exit code and its last lines of output.
// When ctx ends first, Migrate deletes the Job (and with it its pod) and
// returns ctx's error.
package kubejob
